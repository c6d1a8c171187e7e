"""Checks deploy/template.yaml, the AWS SAM template, without an AWS account.

1. The template is validated against the official AWS JSON schemas vendored in
   tests/data/cfn-schemas (AWS SAM's sam.schema.json, and the CloudFormation registry
   schemas of the other resource types; origins and licences in its README.md) by
   validate_template.js, with ajv and ajv-draft-04 from ./node_modules (pinned in
   package.json and package-lock.json). That file's header says what it checks and
   what it does not. Mutated copies of the template (a misspelled property, a wrong
   type, a dangling Ref, ...) must be rejected, so the validator is shown to bite.
   It takes the place of cfn-lint, which Debian does not package: node and npm suffice.
2. The template is read as JSON (js-yaml from ./node_modules, with CloudFormation's
   short-form tags mapped to their long forms) and checked for what the design
   promises: least-privilege role, every route wired to the function (the widget
   script, the badges, the history, the admin API and the dashboard's files included),
   no CORS setting that could open the admin API to other sites, the admin token as a
   NoEcho parameter that reaches only the function's environment, stage throttling from
   parameters, the function and table settings, and outputs that cannot be misused as
   the widget's data-api.

Nothing here is skipped: a missing tool is a failure that says what to install.
`npm ci` runs in this folder when node_modules is missing or does not match
package-lock.json (it needs the npm registry once).
Run: cd tests/deploy && python3 -m unittest -v test_template
"""

import functools
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TEMPLATE = REPO / "deploy" / "template.yaml"
SCHEMAS = REPO / "tests" / "data" / "cfn-schemas"
VALIDATOR = HERE / "validate_template.js"

# What the program calls on DynamoDB when it runs as the function. export and import
# run on an operator's machine with the operator's credentials, not through this role.
DYNAMODB_ACTIONS = {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:PutItem",
                    "dynamodb:DeleteItem", "dynamodb:DescribeTable",
                    "dynamodb:BatchGetItem",     # /history, period badges, listing's days
                    "dynamodb:Scan",             # admin listing, DELETE's rows
                    "dynamodb:BatchWriteItem"}   # DELETE's rows

EXPECTED_ROUTES = {
    ("GET", "/count"),
    ("POST", "/count"),
    ("OPTIONS", "/count"),
    ("GET", "/count/{key+}"),
    ("POST", "/count/{key+}"),
    ("OPTIONS", "/count/{key+}"),
    ("GET", "/counters/{key+}"),
    ("OPTIONS", "/counters/{key+}"),
    ("GET", "/history/{key+}"),
    ("OPTIONS", "/history/{key+}"),
    ("GET", "/badge/{key+}"),
    ("OPTIONS", "/badge/{key+}"),
    ("GET", "/healthz"),
    ("GET", "/counter.js"),
} | {
    # HEAD wherever the public GET works.
    ("HEAD", path) for path in ["/count", "/count/{key+}", "/counters/{key+}", "/history/{key+}",
                                "/badge/{key+}", "/healthz", "/counter.js"]
} | {
    # The admin API and the dashboard's files: no OPTIONS, so no preflight is answered.
    ("GET", "/counters"),
    ("PUT", "/counters/{key+}"),
    ("DELETE", "/counters/{key+}"),
    ("GET", "/dashboard"),
    ("GET", "/dashboard.js"),
    ("GET", "/dashboard.css"),
    ("GET", "/uPlot.iife.min.js"),
    ("GET", "/uPlot.min.css"),
}

# The methods only the admin API answers.
ADMIN_METHODS = {"PUT", "DELETE"}

EXPECTED_OUTPUTS = {"ApiUrl", "WidgetScriptUrl", "BadgeUrl", "TableName", "FunctionName"}

# Reads a CloudFormation YAML file and prints it as JSON. Short-form tags become the
# long form CloudFormation defines: !Ref X -> {"Ref": X}, !GetAtt A.B -> {"Fn::GetAtt":
# ["A", "B"]}, !Sub s -> {"Fn::Sub": s}, and so on.
YAML_TO_JSON_JS = r"""
const fs = require('fs');
const yaml = require('js-yaml');
const types = [];
const add = (tag, key, kinds, convert) => {
  for (const kind of kinds) {
    types.push(new yaml.Type('!' + tag, {
      kind,
      construct: (data) => ({ [key]: convert ? convert(data, kind) : data }),
    }));
  }
};
add('Ref', 'Ref', ['scalar']);
add('Condition', 'Condition', ['scalar']);
add('GetAtt', 'Fn::GetAtt', ['scalar', 'sequence'], (data, kind) => {
  if (kind !== 'scalar') return data;
  const dot = data.indexOf('.');
  return [data.slice(0, dot), data.slice(dot + 1)];
});
for (const fn of ['And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'If',
                  'ImportValue', 'Join', 'Length', 'Not', 'Or', 'Select', 'Split', 'Sub',
                  'ToJsonString', 'Transform']) {
  add(fn, 'Fn::' + fn, ['scalar', 'sequence', 'mapping']);
}
const schema = yaml.DEFAULT_SCHEMA.extend(types);
const doc = yaml.load(fs.readFileSync(process.argv[1], 'utf8'), { schema });
process.stdout.write(JSON.stringify(doc));
"""


def run(args, cwd=None, timeout=300, input_text=None):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          input=input_text)


def require_tool(name, hint):
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"'{name}' not found on PATH: {hint}")
    return path


def npm_packages_match():
    """True if node_modules holds exactly the versions package-lock.json pins."""
    lock = json.loads((HERE / "package-lock.json").read_text())
    for where, entry in lock["packages"].items():
        if not where:
            continue
        installed = HERE / where / "package.json"
        if not installed.is_file():
            return False
        if json.loads(installed.read_text()).get("version") != entry.get("version"):
            return False
    return True


@functools.lru_cache(maxsize=None)
def node():
    """The node binary, with ./node_modules installed from package-lock.json."""
    path = require_tool("node", "install Node.js 18 or later (Debian package nodejs)")
    version = run([path, "--version"]).stdout.strip()
    found = re.fullmatch(r"v(\d+)\..*", version)
    if not found or int(found.group(1)) < 18:
        raise AssertionError(f"node {version!r} is too old: install Node.js 18 or later")
    if not npm_packages_match():
        npm = require_tool("npm", "install npm (Debian package npm)")
        done = run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, timeout=600)
        if done.returncode != 0:
            raise AssertionError(f"npm ci in {HERE} failed:\n{done.stdout}\n{done.stderr}")
        if not npm_packages_match():
            raise AssertionError(f"npm ci in {HERE} did not install package-lock.json's versions")
    return path


@functools.lru_cache(maxsize=None)
def template_json(path=TEMPLATE):
    """A template (deploy/template.yaml unless told) as JSON text, through node + the pinned
    js-yaml."""
    done = run([node(), "-e", YAML_TO_JSON_JS, str(path)], cwd=HERE)
    if done.returncode != 0:
        raise AssertionError(f"could not read {path}:\n{done.stderr}")
    return done.stdout


def load_template():
    """deploy/template.yaml as a dict (a fresh copy each time)."""
    return json.loads(template_json())


def validate(*templates):
    """validate_template.js's result ({"errors", "checked", "allowed"}) per template."""
    done = run([node(), str(VALIDATOR), str(SCHEMAS)], cwd=HERE,
               input_text=json.dumps(list(templates)))
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise AssertionError(f"{VALIDATOR.name} failed (exit {done.returncode}):\n{done.stderr}")
    results = json.loads(done.stdout)
    if done.returncode != (1 if any(r["errors"] for r in results) else 0):
        raise AssertionError(f"{VALIDATOR.name}: exit {done.returncode} does not match its report")
    return results


def branches(value):
    """Every value `value` can take: both sides of each Fn::If, recursively."""
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        _, when_true, when_false = value["Fn::If"]
        return branches(when_true) + branches(when_false)
    return [value]


def as_list(value):
    return value if isinstance(value, list) else [value]


def rename(mapping, old, new):
    mapping[new] = mapping.pop(old)


def walk(value, path=()):
    """Every (path, value) inside `value`, itself included, depth first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, path + (index,))


def condition_holds(template, name, parameters):
    """Evaluates the template's condition `name` for these parameter values (the
    defaults for the others): Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition, Ref."""
    def value(node):
        if isinstance(node, dict) and list(node) == ["Ref"]:
            ref = node["Ref"]
            if ref in parameters:
                return parameters[ref]
            return str(template["Parameters"][ref].get("Default"))
        if isinstance(node, (str, int, float)):
            return str(node)
        raise AssertionError(f"cannot evaluate {node!r}")

    def holds(node):
        (function, args), = node.items()
        if function == "Condition":
            return holds(template["Conditions"][args])
        if function == "Fn::Equals":
            return value(args[0]) == value(args[1])
        if function == "Fn::Not":
            return not holds(args[0])
        if function == "Fn::And":
            return all(holds(a) for a in args)
        if function == "Fn::Or":
            return any(holds(a) for a in args)
        raise AssertionError(f"cannot evaluate {function}")

    return holds(template["Conditions"][name])


# (name, change to a copy of the template, [(resource, path, text in the message)]): each
# changed template must be rejected with at least these errors.
NEGATIVE_CASES = [
    ("misspelled function property",
     lambda t: rename(t["Resources"]["CounterFunction"]["Properties"], "Runtime", "Runtimee"),
     [("CounterFunction", "/Properties", '"Runtimee"')]),
    ("misspelled table property",
     lambda t: rename(t["Resources"]["CounterTable"]["Properties"], "BillingMode", "BillingModee"),
     [("CounterTable", "/Properties", '"BillingModee"')]),
    ("misspelled role property",
     lambda t: rename(t["Resources"]["FunctionRole"]["Properties"], "Policies", "Policiess"),
     [("FunctionRole", "/Properties", '"Policiess"')]),
    ("misspelled log group property",
     lambda t: rename(t["Resources"]["FunctionLogGroup"]["Properties"], "RetentionInDays",
                      "RetentionDays"),
     [("FunctionLogGroup", "/Properties", '"RetentionDays"')]),
    ("memory size of the wrong type",
     lambda t: t["Resources"]["CounterFunction"]["Properties"].update(MemorySize="lots"),
     [("CounterFunction", "/Properties/MemorySize", "must be integer")]),
    ("misspelled intrinsic function is not an intrinsic",
     lambda t: t["Resources"]["CounterFunction"]["Properties"].update(MemorySize={"Reff": "X"}),
     [("CounterFunction", "/Properties/MemorySize", "must be integer")]),
    ("log format outside its enum",
     lambda t: t["Resources"]["CounterFunction"]["Properties"]["LoggingConfig"].update(
         LogFormat="Yaml"),
     [("CounterFunction", "/Properties/LoggingConfig/LogFormat", "allowed values")]),
    ("misspelled event property",
     lambda t: rename(t["Resources"]["CounterFunction"]["Properties"]["Events"]["HealthzGet"]
                      ["Properties"], "Method", "Methd"),
     [("CounterFunction", "/Properties/Events/HealthzGet/Properties", '"Methd"')]),
    ("unknown event type",
     lambda t: t["Resources"]["CounterFunction"]["Properties"]["Events"]["HealthzGet"].update(
         Type="HttpApii"),
     [("CounterFunction", "/Properties/Events/HealthzGet/Type", '"HttpApii"')]),
    ("misspelled stage route setting",
     lambda t: rename(t["Resources"]["CounterApi"]["Properties"]["DefaultRouteSettings"],
                      "ThrottlingBurstLimit", "ThrottlingBurstLimt"),
     [("CounterApi", "/Properties/DefaultRouteSettings", '"ThrottlingBurstLimt"')]),
    ("misspelled property in one Fn::If branch",
     lambda t: rename(t["Resources"]["CounterApi"]["Properties"]["AccessLogSettings"]["Fn::If"][1],
                      "Format", "Formatt"),
     [("CounterApi", "/Properties/AccessLogSettings", '"Formatt"')]),
    ("retention parameter allowing a value CloudWatch Logs does not have",
     lambda t: t["Parameters"]["LogRetentionDays"]["AllowedValues"].append(13),
     [("FunctionLogGroup", "/Properties/RetentionInDays", "value 13"),
      ("AccessLogGroup", "/Properties/RetentionInDays", "value 13")]),
    ("read-only attribute set as a property",
     lambda t: t["Resources"]["CounterTable"]["Properties"].update(Arn="arn:aws:dynamodb:x"),
     [("CounterTable", "/Properties/Arn", "read-only")]),
    ("misspelled resource attribute",
     lambda t: rename(t["Resources"]["CounterTable"], "DeletionPolicy", "DeletionPolicyy"),
     [("template", "/Resources/CounterTable", '"DeletionPolicyy"')]),
    ("resource type without a vendored schema",
     lambda t: t["Resources"].update(Queue={"Type": "AWS::SQS::Queue", "Properties": {}}),
     [("Queue", "/Type", "no vendored schema")]),
    ("Ref to nothing",
     lambda t: t["Resources"]["CounterFunction"]["Properties"]["Environment"]["Variables"].update(
         VC_ALLOW_ORIGINS={"Ref": "AllowedOrigin"}),
     [("CounterFunction", "/Properties/Environment/Variables/VC_ALLOW_ORIGINS",
       '"AllowedOrigin"')]),
    ("Fn::GetAtt of an attribute the type does not have",
     lambda t: t["Resources"]["FunctionRole"]["Properties"]["Policies"][1]["PolicyDocument"]
     ["Statement"][0].update(Resource={"Fn::GetAtt": ["FunctionLogGroup", "Arnn"]}),
     [("FunctionRole", "/Properties/Policies/1/PolicyDocument/Statement/0/Resource", "Arnn")]),
    ("Fn::Sub naming a resource that does not exist",
     lambda t: t["Outputs"]["WidgetScriptUrl"].update(
         Value={"Fn::Sub": "${CounterApii.ApiEndpoint}/counter.js"}),
     [("Outputs/WidgetScriptUrl", "/Value/Fn::Sub", '"CounterApii"')]),
    ("architecture parameter allowing a value Lambda does not have",
     lambda t: t["Parameters"]["Architecture"]["AllowedValues"].append("arm"),
     [("CounterFunction", "/Properties/Architectures/0", "arm")]),
    ("output without a Value",
     lambda t: rename(t["Outputs"]["ApiUrl"], "Value", "Valu"),
     [("template", "/Outputs/ApiUrl", "Value")]),
]


# Each Lambda zip that `make package` writes, as the template's CodeUri names it.
ZIPS = {"arm64": "../dist/visitor-counter-lambda-arm64.zip",
        "x86_64": "../dist/visitor-counter-lambda.zip"}


def check_code_architecture(test, template, arch):
    """The template deploys the zip of `arch`, by default as `arch`, and its rule refuses any
    other Architecture (a value kept from an earlier deploy would otherwise run the zip on
    the wrong machine)."""
    function = template["Resources"]["CounterFunction"]["Properties"]
    test.assertEqual(function["CodeUri"], ZIPS[arch])
    test.assertEqual(template["Parameters"]["Architecture"]["Default"], arch)
    [assertion] = template["Rules"]["ArchitectureIsTheCodes"]["Assertions"]
    test.assertEqual(assertion["Assert"], {"Fn::Equals": [{"Ref": "Architecture"}, arch]})
    test.assertIn(f"must be {arch},", assertion["AssertDescription"])
    test.assertEqual(list(template["Rules"]), ["ArchitectureIsTheCodes"])


class TemplateSchemas(unittest.TestCase):
    def test_vendored_files_are_the_recorded_ones(self):
        # README.md lists every vendored file with its SHA-256: an edited or a
        # half-updated schema fails here.
        readme = (SCHEMAS / "README.md").read_text()
        recorded = dict((path, digest) for digest, path in
                        re.findall(r"`([0-9a-f]{64})`\s+`([^`]+)`", readme))
        present = {str(p.relative_to(SCHEMAS)) for p in SCHEMAS.rglob("*")
                   if p.is_file() and p.name != "README.md"}
        self.assertEqual(set(recorded), present, "README.md lists other files than are here")
        for path, digest in recorded.items():
            self.assertEqual(hashlib.sha256((SCHEMAS / path).read_bytes()).hexdigest(), digest,
                             f"{path} differs from the recorded file")

    def test_template_matches_the_aws_schemas(self):
        template = load_template()
        (result,) = validate(template)
        errors = "\n".join(f"{e['where']} {e['path']}: {e['message']}" for e in result["errors"])
        if result["errors"]:
            self.fail(f"{TEMPLATE} does not match the schemas:\n{errors}")
        # Every resource was checked against a schema, the SAM ones also through the
        # CloudFormation properties SAM passes on.
        self.assertEqual(set(result["checked"]), set(template["Resources"]))
        self.assertEqual(result["checked"]["CounterTable"], ["aws-dynamodb-table.json"])
        self.assertEqual(result["checked"]["FunctionRole"], ["aws-iam-role.json"])
        self.assertEqual(result["checked"]["FunctionLogGroup"], ["aws-logs-loggroup.json"])
        function_checks = result["checked"]["CounterFunction"]
        for prop in ("Runtime", "Handler", "MemorySize", "Timeout", "Architectures",
                     "LoggingConfig", "Environment"):
            self.assertIn(f"aws-lambda-function.json#/properties/{prop}", function_checks)
        self.assertIn("aws-apigatewayv2-stage.json#/properties/DefaultRouteSettings",
                      result["checked"]["CounterApi"])
        # What was let through because the value is an intrinsic function.
        if result["allowed"]:
            print("\nintrinsic functions standing for values:\n" + "\n".join(
                f"  {a['where']} {a['path']}: {a['message']}" for a in result["allowed"]))

    def test_validator_rejects_broken_templates(self):
        broken = []
        for _, change, _ in NEGATIVE_CASES:
            template = load_template()
            change(template)
            broken.append(template)
        results = validate(*broken)
        self.assertEqual(len(results), len(NEGATIVE_CASES))
        for (name, _, expected), result in zip(NEGATIVE_CASES, results):
            with self.subTest(name):
                found = "\n".join(f"  {e['where']} {e['path']}: {e['message']}"
                                  for e in result["errors"])
                self.assertTrue(result["errors"], f"{name}: accepted")
                for where, path, text in expected:
                    self.assertTrue(
                        any(e["where"] == where and e["path"] == path and text in e["message"]
                            for e in result["errors"]),
                        f"{name}: no error at {where} {path} mentioning {text!r}; got:\n{found}")


class TemplateContents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = load_template()
        cls.resources = cls.t["Resources"]

    def of_type(self, type_name):
        return {name: r for name, r in self.resources.items() if r["Type"] == type_name}

    def one_of_type(self, type_name):
        found = self.of_type(type_name)
        self.assertEqual(len(found), 1, f"expected exactly one {type_name}, got {list(found)}")
        return next(iter(found.items()))

    def function(self):
        return self.one_of_type("AWS::Serverless::Function")

    def role(self):
        _, fn = self.function()
        role_ref = fn["Properties"].get("Role")
        self.assertIsInstance(role_ref, dict, "the function must use the template's own role")
        self.assertIn("Fn::GetAtt", role_ref)
        role_name, attribute = role_ref["Fn::GetAtt"]
        self.assertEqual(attribute, "Arn")
        role = self.resources[role_name]
        self.assertEqual(role["Type"], "AWS::IAM::Role")
        return role

    def statements(self):
        role = self.role()
        found = []
        for policy in role["Properties"].get("Policies", []):
            document = policy["PolicyDocument"]
            found += as_list(document["Statement"])
        return found

    def table_conditions(self):
        """(condition name, table resource name) of the table the template creates."""
        tables = self.of_type("AWS::DynamoDB::Table")
        self.assertEqual(len(tables), 1, f"expected one table resource, got {list(tables)}")
        name, table = next(iter(tables.items()))
        return table.get("Condition"), name

    # --- the function -------------------------------------------------------------

    def test_transform_is_sam(self):
        self.assertEqual(self.t.get("Transform"), "AWS::Serverless-2016-10-31")

    def test_function_runtime_and_size(self):
        _, fn = self.function()
        p = fn["Properties"]
        self.assertEqual(p["Runtime"], "provided.al2023")
        self.assertEqual(p["Handler"], "bootstrap")
        self.assertEqual(p["MemorySize"], 128)
        self.assertLessEqual(p["Timeout"], 10)
        self.assertNotIn("Policies", p, "no SAM policies beside the template's own role")

    # --- the architecture (deploy/template-for writes the x86_64 copy) ---------------

    def test_architecture_is_a_parameter_defaulting_to_arm64(self):
        p = self.t["Parameters"]["Architecture"]
        self.assertEqual((p["Type"], p["Default"]), ("String", "arm64"))
        self.assertEqual(sorted(p["AllowedValues"]), ["arm64", "x86_64"])
        _, fn = self.function()
        self.assertEqual(fn["Properties"]["Architectures"], [{"Ref": "Architecture"}])

    def test_the_code_is_the_zip_of_the_only_architecture_the_rule_allows(self):
        check_code_architecture(self, self.t, "arm64")

    def test_make_package_writes_each_zip_from_its_build(self):
        makefile = (REPO / "Makefile").read_text()
        for arch, zip_path in ZIPS.items():
            build = {"arm64": "build/lambda-arm64", "x86_64": "build/lambda"}[arch]
            self.assertIn(f"deploy/package.sh {build}/visitor-counter {zip_path[3:]}\n", makefile)

    def test_template_for_x86_64_changes_only_the_code_rule_and_default(self):
        with tempfile.TemporaryDirectory() as folder:
            copies = {}
            for arch in ZIPS:
                done = run([str(REPO / "deploy" / "template-for"), arch])
                self.assertEqual(done.returncode, 0, done.stderr)
                copies[arch] = Path(folder) / f"template-{arch}.yaml"
                copies[arch].write_text(done.stdout)
            self.assertEqual(copies["arm64"].read_text(), TEMPLATE.read_text())
            changed = [(a, b) for a, b in zip(TEMPLATE.read_text().splitlines(),
                                              copies["x86_64"].read_text().splitlines()) if a != b]
            self.assertEqual(len(changed), 4, changed)
            x86_64 = json.loads(template_json(copies["x86_64"]))
        check_code_architecture(self, x86_64, "x86_64")
        (result,) = validate(x86_64)
        self.assertEqual(result["errors"], [])
        self.assertEqual(run([str(REPO / "deploy" / "template-for"), "arm"]).returncode, 2)

    def test_function_environment(self):
        _, fn = self.function()
        env = fn["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["VC_ALLOW_ORIGINS"], {"Ref": "AllowedOrigins"})
        self.assertEqual(env["VC_REQUIRE_ORIGIN"], {"Ref": "RequireOrigin"})
        self.assertNotIn("AWS_REGION", env, "Lambda sets AWS_REGION itself (reserved)")
        condition, table = self.table_conditions()
        self.assertEqual(env["TABLE_NAME"],
                         {"Fn::If": [condition, {"Ref": table}, {"Ref": "ExistingTableName"}]})
        params = self.t["Parameters"]
        self.assertEqual(params["RequireOrigin"]["AllowedValues"], ["false", "true"])
        self.assertEqual(params["RequireOrigin"]["Default"], "false")
        self.assertNotIn("*", params["AllowedOrigins"]["Default"].split(","),
                         "the default allow-list must not open every origin")
        # The recommended counting profile by default, each setting a parameter.
        for variable, parameter, default in (("VC_PROFILE", "Profile", "full"),
                                             ("VC_IGNORE_BOTS", "IgnoreBots", "true"),
                                             ("VC_RESPECT_DNT", "RespectDnt", "false"),
                                             ("VC_KEYS", "Keys", ""),
                                             ("VC_MAX_COUNTERS", "MaxCounters", 10000),
                                             ("VC_OWNER_CREATES_COUNTERS",
                                              "OwnerCreatesCounters", "false")):
            self.assertEqual(env[variable], {"Ref": parameter})
            self.assertEqual(params[parameter]["Default"], default)
        # The classic profile sets off what needs visitors or days (the binary refuses them).
        self.assertEqual(params["Profile"]["AllowedValues"], ["full", "classic"])
        self.assertEqual(self.t["Conditions"]["ClassicProfile"],
                         {"Fn::Equals": [{"Ref": "Profile"}, "classic"]})
        for variable, parameter, default, classic in (
                ("VC_COUNT_UNIT", "CountUnit", "visitors", "views"),
                ("VC_REPEAT_WINDOW", "RepeatWindow", 10, "0"),
                ("VC_KEEP_DAYS", "KeepDays", 0, "0")):
            self.assertEqual(env[variable],
                             {"Fn::If": ["ClassicProfile", classic, {"Ref": parameter}]})
            self.assertEqual(params[parameter]["Default"], default)
        self.assertNotIn("VC_RATE_LIMIT", env, "on Lambda the stage throttling is the limit")
        self.assertEqual(env["VC_PRIVATE_STATS"], {"Ref": "PrivateStats"})
        self.assertEqual(params["PrivateStats"]["AllowedValues"], ["false", "true"])
        self.assertEqual(params["PrivateStats"]["Default"], "false")
        self.assertNotIn("VC_ADMIN_TOKEN_FILE", env, "the function has no file to read")

    def test_admin_token_is_a_no_echo_parameter(self):
        param = self.t["Parameters"]["AdminToken"]
        self.assertEqual(param["Type"], "String")
        self.assertIs(param["NoEcho"], True)
        self.assertEqual(param["Default"], "", "no admin API unless asked for")
        self.assertNotIn("MinLength", param, "empty must stay allowed")
        # CloudFormation matches AllowedPattern against the whole value (Java regex; this
        # pattern means the same in Python's).
        pattern = re.compile(param["AllowedPattern"])
        for good in ("", "none", "0123456789abcdef", "a" * 48, "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"):
            self.assertTrue(pattern.fullmatch(good), f"AllowedPattern refuses {good!r}")
        for weak in ("0123456789abcde", "password", "0123456789abcdef ", "0123456789 abcdef",
                     "0123456789abcdef\n", "0123456789abcdéf", "\t" * 16, "None", " none"):
            self.assertFalse(pattern.fullmatch(weak), f"AllowedPattern accepts {weak!r}")
        self.assertTrue(param.get("ConstraintDescription"))
        for other, spec in self.t["Parameters"].items():
            if other != "AdminToken":
                self.assertNotIn("NoEcho", spec, f"{other} is no secret")

    def test_admin_token_reaches_only_the_function_environment(self):
        # VC_ADMIN_TOKEN holds the token when one is given, and is left out for "" and
        # "none" (an empty VC_ADMIN_TOKEN would mean none too; `none` would be refused by
        # the function as a weak token, so it must never reach it).
        _, fn = self.function()
        env = fn["Properties"]["Environment"]["Variables"]
        value = env["VC_ADMIN_TOKEN"]
        self.assertEqual(list(value), ["Fn::If"])
        condition, when_on, when_off = value["Fn::If"]
        self.assertEqual(when_on, {"Ref": "AdminToken"})
        self.assertEqual(when_off, {"Ref": "AWS::NoValue"})
        for token, on in (("", False), ("none", False), ("0123456789abcdef", True),
                          ("a" * 48, True)):
            self.assertIs(condition_holds(self.t, condition, {"AdminToken": token}), on, token)
        # Nothing else uses the token: no output, tag, description or second variable.
        uses = []
        for path, item in walk(self.t):
            if item == {"Ref": "AdminToken"} or (
                    isinstance(item, str) and "${AdminToken}" in item):
                uses.append(path)
        self.assertEqual(uses, [
            ("Conditions", condition, "Fn::Not", 0, "Fn::Or", 0, "Fn::Equals", 0),
            ("Conditions", condition, "Fn::Not", 0, "Fn::Or", 1, "Fn::Equals", 0),
            ("Resources", self.function()[0], "Properties", "Environment", "Variables",
             "VC_ADMIN_TOKEN", "Fn::If", 1),
        ])

    def test_function_logs_are_bounded(self):
        _, fn = self.function()
        log_ref = fn["Properties"]["LoggingConfig"]["LogGroup"]
        group = self.resources[log_ref["Ref"]]
        self.assertEqual(group["Type"], "AWS::Logs::LogGroup")
        self.assertNotIn("Condition", group)
        retention = group["Properties"]["RetentionInDays"]
        values = [retention]
        if retention == {"Ref": "LogRetentionDays"}:
            param = self.t["Parameters"]["LogRetentionDays"]
            values = param["AllowedValues"] + [param["Default"]]
        for days in values:
            self.assertIsInstance(days, int)
            self.assertLessEqual(days, 90)

    # --- the table ----------------------------------------------------------------

    def test_table_matches_classic_shape(self):
        condition, name = self.table_conditions()
        table = self.resources[name]
        self.assertEqual(self.t["Conditions"][condition],
                         {"Fn::Equals": [{"Ref": "ExistingTableName"}, ""]})
        self.assertEqual(self.t["Parameters"]["ExistingTableName"]["Default"], "")
        self.assertEqual(table["DeletionPolicy"], "Retain")
        self.assertEqual(table["UpdateReplacePolicy"], "Retain")
        p = table["Properties"]
        self.assertEqual(p["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(p["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"}])
        self.assertEqual(p["AttributeDefinitions"], [{"AttributeName": "id", "AttributeType": "S"}])
        self.assertIs(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], True)
        # Marks, salts and Idempotency-Key records expire through the TTL attribute.
        self.assertEqual(p["TimeToLiveSpecification"], {"AttributeName": "expires", "Enabled": True})

    # --- the role -----------------------------------------------------------------

    def test_role_is_assumed_by_lambda_only(self):
        document = self.role()["Properties"]["AssumeRolePolicyDocument"]
        for statement in as_list(document["Statement"]):
            self.assertEqual(statement["Principal"], {"Service": "lambda.amazonaws.com"})
            self.assertEqual(as_list(statement["Action"]), ["sts:AssumeRole"])

    def test_role_has_no_managed_policies(self):
        # Logging is granted inline on the function's own log group instead.
        self.assertEqual(self.role()["Properties"].get("ManagedPolicyArns", []), [])

    def test_no_wildcards_anywhere_in_the_role(self):
        for statement in self.statements():
            self.assertEqual(statement["Effect"], "Allow")
            for key in ("NotAction", "NotResource", "Condition"):
                self.assertNotIn(key, statement)
            for action in as_list(statement["Action"]):
                self.assertIsInstance(action, str)
                self.assertNotIn("*", action, f"wildcard action {action}")
            for resource in as_list(statement["Resource"]):
                for value in branches(resource):
                    self.assertNotEqual(value, "*", "a statement allows every resource")

    def test_dynamodb_policy_is_exactly_the_eight_actions(self):
        dynamo = [s for s in self.statements()
                  if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
        self.assertEqual(len(dynamo), 1, "one DynamoDB statement")
        actions = as_list(dynamo[0]["Action"])
        self.assertEqual(len(actions), len(set(actions)))
        self.assertEqual(set(actions), DYNAMODB_ACTIONS)

    def test_dynamodb_policy_is_scoped_to_the_table(self):
        (statement,) = [s for s in self.statements()
                        if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
        condition, table = self.table_conditions()
        resource = statement["Resource"]
        self.assertIsInstance(resource, dict, "one resource, the table's ARN")
        self.assertEqual(list(resource), ["Fn::If"])
        when, created, existing = resource["Fn::If"]
        self.assertEqual(when, condition)
        self.assertEqual(created, {"Fn::GetAtt": [table, "Arn"]})
        self.assertEqual(list(existing), ["Fn::Sub"])
        self.assertEqual(
            existing["Fn::Sub"],
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${ExistingTableName}")

    def test_other_statements_only_write_the_function_logs(self):
        _, fn = self.function()
        log_group = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for statement in self.statements():
            actions = set(as_list(statement["Action"]))
            if actions == DYNAMODB_ACTIONS:
                continue
            self.assertEqual(actions, {"logs:CreateLogStream", "logs:PutLogEvents"})
            self.assertEqual(statement["Resource"], {"Fn::GetAtt": [log_group, "Arn"]})

    # --- the HTTP API -------------------------------------------------------------

    def test_every_route_is_wired_to_the_function(self):
        api_name, api = self.one_of_type("AWS::Serverless::HttpApi")
        # Routes exist only as the function's events: each event is a route plus its
        # Lambda integration plus the invoke permission. No OpenAPI body, no raw
        # ApiGatewayV2 resources that could hold a route without an integration.
        self.assertNotIn("DefinitionBody", api["Properties"])
        self.assertNotIn("DefinitionUri", api["Properties"])
        raw = [n for n, r in self.resources.items() if r["Type"].startswith("AWS::ApiGatewayV2::")]
        self.assertEqual(raw, [])
        routes = []
        for fn_name, fn in self.of_type("AWS::Serverless::Function").items():
            for event_name, event in fn["Properties"].get("Events", {}).items():
                if event["Type"] != "HttpApi":
                    continue
                p = event["Properties"]
                self.assertEqual(p.get("ApiId"), {"Ref": api_name}, event_name)
                self.assertEqual(p.get("PayloadFormatVersion", "2.0"), "2.0", event_name)
                routes.append((p["Method"].upper(), p["Path"]))
        self.assertEqual(len(routes), len(set(routes)), "a route declared twice")
        self.assertEqual(set(routes), EXPECTED_ROUTES)

    def test_cors_is_answered_by_the_function_only(self):
        # With a CorsConfiguration, API Gateway answers OPTIONS itself and replaces the
        # function's CORS headers, which would undo the per-origin policy, and an
        # AllowHeaders with Authorization or AllowMethods with PUT or DELETE would let
        # other sites' pages call the admin API. So there is none, anywhere: not on the
        # API, not in Globals, not as an API Gateway V2 Api's Cors.
        _, api = self.one_of_type("AWS::Serverless::HttpApi")
        self.assertNotIn("CorsConfiguration", api["Properties"])
        self.assertNotIn("Globals", self.t)
        for path, item in walk(self.t):
            if isinstance(item, dict):
                for key in ("CorsConfiguration", "Cors"):
                    self.assertNotIn(key, item, f"a CORS setting at {path}")
        for path, item in walk(self.t):
            if isinstance(item, str):
                self.assertNotRegex(item, r"(?i)access-control-allow",
                                    f"a CORS header set outside the function at {path}")

    def test_admin_routes_have_no_preflight_route(self):
        # The function answers the preflight of the public paths (offering GET and OPTIONS
        # only, never Authorization); the admin-only paths have no OPTIONS route at all.
        events = self.function()[1]["Properties"]["Events"].values()
        routes = {(e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events}
        admin_paths = {path for method, path in routes if method in ADMIN_METHODS}
        self.assertEqual(admin_paths, {"/counters/{key+}"})
        for path in ("/counters", "/dashboard", "/dashboard.js", "/dashboard.css",
                     "/uPlot.iife.min.js", "/uPlot.min.css"):
            self.assertIn(("GET", path), routes)
            self.assertNotIn(("OPTIONS", path), routes, f"{path} is the owner's, not CORS")
        self.assertFalse(any(method == "ANY" or "{proxy+}" in path for method, path in routes),
                         "a catch-all route would send unknown methods and paths too")

    def test_stage_throttling_comes_from_parameters(self):
        _, api = self.one_of_type("AWS::Serverless::HttpApi")
        settings = api["Properties"]["DefaultRouteSettings"]
        self.assertEqual(settings["ThrottlingRateLimit"], {"Ref": "ThrottleRate"})
        self.assertEqual(settings["ThrottlingBurstLimit"], {"Ref": "ThrottleBurst"})
        self.assertNotIn("StageName", api["Properties"], "$default stage: no stage in the path")
        for name in ("ThrottleRate", "ThrottleBurst"):
            param = self.t["Parameters"][name]
            self.assertEqual(param["Type"], "Number")
            self.assertGreaterEqual(param["Default"], 1)
            self.assertGreaterEqual(param["MinValue"], 1)

    def test_access_log_stores_no_ip_or_user_agent(self):
        _, api = self.one_of_type("AWS::Serverless::HttpApi")
        for settings in branches(api["Properties"].get("AccessLogSettings", {})):
            if not isinstance(settings, dict) or "Format" not in settings:
                continue
            self.assertNotRegex(settings["Format"], r"sourceIp|userAgent|identity\.")

    def test_widget_script_and_badges_are_routed_to_the_function(self):
        # The README's one tag loads https://COUNTER-HOST/counter.js; on Lambda that
        # host is the API, so GET /counter.js must reach the function (which serves it
        # as with `visitor-counter serve`), like GET /badge/NAME.svg.
        api_name, _ = self.one_of_type("AWS::Serverless::HttpApi")
        fn_name, fn = self.function()
        self.assertEqual(fn["Properties"]["Handler"], "bootstrap")
        routes = {}
        for event_name, event in fn["Properties"]["Events"].items():
            p = event["Properties"]
            routes[(p["Method"].upper(), p["Path"])] = (event["Type"], p["ApiId"], event_name)
        for route in (("GET", "/counter.js"), ("GET", "/badge/{key+}"),
                      ("GET", "/history/{key+}"), ("GET", "/dashboard")):
            self.assertIn(route, routes, f"{route} is not an event of {fn_name}")
            event_type, api_id, _ = routes[route]
            self.assertEqual(event_type, "HttpApi")
            self.assertEqual(api_id, {"Ref": api_name})

    def test_outputs(self):
        outputs = self.t["Outputs"]
        self.assertEqual(set(outputs), EXPECTED_OUTPUTS)
        api_name, _ = self.one_of_type("AWS::Serverless::HttpApi")
        fn_name, _ = self.function()
        condition, table = self.table_conditions()
        endpoint = f"${{{api_name}.ApiEndpoint}}"
        self.assertEqual(outputs["ApiUrl"]["Value"], {"Fn::GetAtt": [api_name, "ApiEndpoint"]})
        self.assertEqual(outputs["WidgetScriptUrl"]["Value"], {"Fn::Sub": f"{endpoint}/counter.js"})
        self.assertEqual(outputs["BadgeUrl"]["Value"], {"Fn::Sub": f"{endpoint}/badge/readme.svg"})
        self.assertEqual(outputs["TableName"]["Value"],
                         {"Fn::If": [condition, {"Ref": table}, {"Ref": "ExistingTableName"}]})
        self.assertEqual(outputs["FunctionName"]["Value"], {"Ref": fn_name})
        for name, output in outputs.items():
            self.assertTrue(output.get("Description"), f"{name} has no description")

    def test_no_output_ends_in_count(self):
        # Used as the widget's data-api, such a URL makes it call /count/count, which
        # counts into a counter named "count".
        def texts(value):
            if isinstance(value, str):
                return [value]
            if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
                sub = value["Fn::Sub"]
                return texts(sub[0] if isinstance(sub, list) else sub)
            if isinstance(value, dict) and list(value) == ["Fn::Join"]:
                return texts(value["Fn::Join"][1][-1])
            if isinstance(value, dict) and list(value) == ["Fn::If"]:
                return texts(value["Fn::If"][1]) + texts(value["Fn::If"][2])
            return []
        for name, output in self.t["Outputs"].items():
            for text in texts(output["Value"]):
                self.assertFalse(re.search(r"/count/?$", text), f"{name} ends in /count: {text}")


if __name__ == "__main__":
    unittest.main()
