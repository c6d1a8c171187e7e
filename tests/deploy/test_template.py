"""Checks deploy/template.yaml, the AWS SAM template, without an AWS account.

1. AWS's CloudFormation linter (`cfn-lint`, the aws-cloudformation one, v1) lints it:
   it runs the real SAM transform, so a wrong event, property, runtime or a route
   that SAM cannot wire fails here.
2. The template is read as JSON (js-yaml from ./node_modules, pinned in package.json,
   with CloudFormation's short-form tags mapped to their long forms) and checked for
   what the design promises: least-privilege role, every route wired to the function,
   stage throttling from parameters, the function and table settings.

Nothing here is skipped: a missing tool is a failure that says what to install.
Run: cd tests/deploy && python3 -m unittest -v test_template
"""

import json
import re
import shutil
import subprocess
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TEMPLATE = REPO / "deploy" / "template.yaml"

# The oldest cfn-lint this template was checked with (it knows provided.al2023 and the
# HttpApi event properties used here). cfn-lint comes with this machine image's Python
# (pip package cfn-lint with aws-sam-translator); the npm package named cfn-lint is a
# different, 2019 project that knows neither AWS::Serverless::HttpApi nor Architectures.
MIN_CFN_LINT = (1, 51, 0)

DYNAMODB_ACTIONS = {"dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:DescribeTable"}

EXPECTED_ROUTES = {
    ("GET", "/count"),
    ("POST", "/count"),
    ("OPTIONS", "/count"),
    ("GET", "/count/{key+}"),
    ("POST", "/count/{key+}"),
    ("OPTIONS", "/count/{key+}"),
    ("GET", "/counters/{key+}"),
    ("OPTIONS", "/counters/{key+}"),
    ("GET", "/badge/{key+}"),
    ("OPTIONS", "/badge/{key+}"),
    ("GET", "/healthz"),
}

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


def run(args, cwd=None, timeout=300):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def require_tool(name, hint):
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"'{name}' not found on PATH: {hint}")
    return path


def load_template():
    """deploy/template.yaml as a dict, through node + the pinned js-yaml."""
    node = require_tool("node", "install Node.js (Debian package nodejs)")
    if not (HERE / "node_modules" / "js-yaml").is_dir():
        npm = require_tool("npm", "install npm (Debian package npm)")
        done = run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, timeout=600)
        if done.returncode != 0:
            raise AssertionError(f"npm ci in {HERE} failed:\n{done.stdout}\n{done.stderr}")
    done = run([node, "-e", YAML_TO_JSON_JS, str(TEMPLATE)], cwd=HERE)
    if done.returncode != 0:
        raise AssertionError(f"could not read {TEMPLATE}:\n{done.stderr}")
    return json.loads(done.stdout)


def branches(value):
    """Every value `value` can take: both sides of each Fn::If, recursively."""
    if isinstance(value, dict) and list(value) == ["Fn::If"]:
        _, when_true, when_false = value["Fn::If"]
        return branches(when_true) + branches(when_false)
    return [value]


def as_list(value):
    return value if isinstance(value, list) else [value]


class TemplateLint(unittest.TestCase):
    def test_cfn_lint_passes(self):
        cfn_lint = require_tool(
            "cfn-lint",
            "AWS's cfn-lint v1 (Python, with aws-sam-translator) is part of this machine "
            "image; on another machine install it with `pip install cfn-lint`")
        version = run([cfn_lint, "--version"], timeout=120)
        self.assertEqual(version.returncode, 0, version.stderr)
        found = re.search(r"(\d+)\.(\d+)\.(\d+)", version.stdout + version.stderr)
        self.assertIsNotNone(found, f"no version in {version.stdout!r}")
        self.assertGreaterEqual(tuple(int(part) for part in found.groups()), MIN_CFN_LINT,
                                f"cfn-lint {found.group(0)} is older than the one checked")
        # Errors and warnings fail the test; informational findings are shown.
        lint = run([cfn_lint, "--include-checks", "I", "--non-zero-exit-code", "warning",
                    "--format", "parseable", "--", str(TEMPLATE)])
        if lint.stdout.strip():
            print(f"\ncfn-lint {found.group(0)} findings:\n{lint.stdout}")
        self.assertEqual(lint.returncode, 0,
                         f"cfn-lint {found.group(0)} rejects {TEMPLATE}:\n"
                         f"{lint.stdout}{lint.stderr}")
        self.assertNotRegex(lint.stdout, r":[EW]\d{4}:", "errors or warnings reported")


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
        self.assertEqual(p["Architectures"], ["x86_64"])
        self.assertLessEqual(p["Timeout"], 10)
        self.assertEqual(p["CodeUri"], "../dist/visitor-counter-lambda.zip")
        self.assertNotIn("Policies", p, "no SAM policies beside the template's own role")

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

    def test_dynamodb_policy_is_exactly_the_three_actions(self):
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
        # function's CORS headers, which would undo the per-origin policy.
        _, api = self.one_of_type("AWS::Serverless::HttpApi")
        self.assertNotIn("CorsConfiguration", api["Properties"])
        self.assertNotIn("Globals", self.t)

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

    def test_outputs(self):
        outputs = self.t["Outputs"]
        self.assertLessEqual({"ApiUrl", "CountUrl", "TableName", "FunctionName"}, set(outputs))
        api_name, _ = self.one_of_type("AWS::Serverless::HttpApi")
        self.assertEqual(outputs["ApiUrl"]["Value"], {"Fn::GetAtt": [api_name, "ApiEndpoint"]})
        self.assertEqual(outputs["CountUrl"]["Value"], {"Fn::Sub": f"${{{api_name}.ApiEndpoint}}/count"})


if __name__ == "__main__":
    unittest.main()
