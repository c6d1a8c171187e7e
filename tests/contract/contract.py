"""docs/openapi.yaml as a checker: finds the operation a request reached, and checks an answer
against the document (its status, every header, its body's schema), recording which
operations were exercised.

    contract = Contract()
    problems = contract.check("serve", "GET", "/counters/home", 200, headers, body)

An answer fails when its path, method or status is not in the document, when a header the
document requires is missing or one it does not name is present (bar Content-Type,
Content-Length, Transfer-Encoding and Connection), when a header's value or the body breaks
its schema (JSON schemas say additionalProperties: false, so an extra field fails), or when a
request the server accepted used a query parameter the operation does not list. The rules for every
path are the document's x-unknown-path, x-method-not-allowed and x-any-request.
Schemas are JSON Schema 2020-12, checked with python3-jsonschema (Debian 12's 4.10 and later).
"""
import json
import os
import re
import urllib.parse

try:
    import jsonschema
    import yaml
except ImportError as missing:
    raise ImportError("%s: install python3-jsonschema and python3-yaml (scripts/install-deps test)"
                      % missing) from missing
if not hasattr(jsonschema, "Draft202012Validator"):
    raise ImportError("jsonschema is too old for JSON Schema 2020-12: install python3-jsonschema 4")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENT = os.path.join(ROOT, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Headers every answer may carry without the document naming them: the body's framing and
# type (Content-Type is checked against the response's media types instead).
TRANSPORT_HEADERS = {"content-type", "content-length", "transfer-encoding", "connection"}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Contract:
    def __init__(self, path=DOCUMENT):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.templates = []  # (template, compiled regex, literal characters)
        for template in self.doc["paths"]:
            pattern, literal = "", 0
            for part in re.split(r"(\{[^}]+\})", template):
                if part.startswith("{"):
                    # A key may hold "/": a parameter spans one or more segments.
                    pattern += "(?P<%s>[^?#]+)" % part[1:-1]
                else:
                    pattern += re.escape(part)
                    literal += len(part)
            self.templates.append((template, re.compile("^%s$" % pattern), literal))
        self.exercised = {}  # where -> {(template, method)}
        self.answered = set()  # (template, method, status) seen anywhere
        self.rules_used = set()  # "x-unknown-path", "x-method-not-allowed", "x-any-request 431"
        self._validators = {}

    # -- the document ---------------------------------------------------------------------
    def resolve(self, node):
        """`node` with its $ref chain followed (local references only)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("only local references are supported: " + ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            if seen > 20:
                raise ValueError("a $ref loop at " + ref)
        return node

    def operations(self, pending=False):
        """Every (template, METHOD) of the document; those marked x-contract-pending only
        when `pending` is true."""
        found = set()
        for template, item in self.doc["paths"].items():
            for method in METHODS:
                op = item.get(method)
                if op is not None and (pending or "x-contract-pending" not in op):
                    found.add((template, method.upper()))
        return found

    def operation(self, template, method):
        return self.doc["paths"][template].get(method.lower())

    def match(self, path):
        """The document's path template for a request path (percent-encoded, no query), or
        None; a literal path wins over a template."""
        best = None
        for template, regex, literal in self.templates:
            if regex.match(path) and (best is None or literal > best[1]):
                best = (template, literal)
        return best[0] if best else None

    # -- schemas ----------------------------------------------------------------------------
    def validator(self, schema):
        key = id(schema)
        if key not in self._validators:
            # The schema as the root, beside the document's components so that its
            # "#/components/..." references resolve.
            root = {"$schema": DIALECT, **schema, "components": self.doc["components"]}
            jsonschema.Draft202012Validator.check_schema(root)
            self._validators[key] = (schema, jsonschema.Draft202012Validator(
                root, format_checker=jsonschema.FormatChecker()))
        return self._validators[key][1]

    def schema_problems(self, schema, value, what):
        return ["%s: %s (at %s)" % (what, e.message, "/".join(map(str, e.absolute_path)) or "top")
                for e in self.validator(schema).iter_errors(value)]

    # -- checking an answer -----------------------------------------------------------------
    def check(self, where, method, target, status, headers, body, request_headers=None):
        """The problems of one answer ([] when it keeps the contract). `headers` is a dict
        of lower-case names; `body` the text."""
        method = method.upper()
        path, _, query = target.partition("?")
        template = self.match(path)
        any_request = self.doc["x-any-request"]
        label = "%s %s %s -> %d" % (where, method, target[:120], status)
        if template is None:
            self.exercised.setdefault(where, set()).add(("<unknown path>", method))
            if str(status) in any_request:
                self.rules_used.add("x-any-request %d" % status)
                return self.check_response(label, method, any_request[str(status)], status,
                                           headers, body)
            if status != 404:
                return ["%s: the path is not in the document, and %d is not its x-unknown-path "
                        "answer" % (label, status)]
            self.rules_used.add("x-unknown-path")
            return self.check_response(label, method, self.doc["x-unknown-path"], status,
                                       headers, body)
        item = self.doc["paths"][template]
        op = item.get(method.lower())
        self.exercised.setdefault(where, set()).add((template, method))
        if str(status) in any_request and (op is None or str(status) not in op["responses"]):
            self.rules_used.add("x-any-request %d" % status)
            return self.check_response(label, method, any_request[str(status)], status, headers,
                                       body)
        if op is None:
            if status != 405:
                return ["%s: %s %s is not in the document, so it must answer 405, not %d"
                        % (label, method, template, status)]
            self.rules_used.add("x-method-not-allowed")
            problems = self.check_response(label, method, self.doc["x-method-not-allowed"],
                                           status, headers, body)
            documented = {m.upper() for m in METHODS if m in item}
            allowed = {m.strip() for m in headers.get("allow", "").split(",") if m.strip()}
            if allowed != documented:
                problems.append("%s: Allow says %s, the document lists %s for %s"
                                % (label, sorted(allowed), sorted(documented), template))
            return problems
        response = op["responses"].get(str(status))
        if response is None:
            return ["%s: %d is not a documented status of %s %s (documented: %s)"
                    % (label, status, method, template, ", ".join(op["responses"]))]
        problems = self.check_response(label, method, response, status, headers, body)
        if problems and str(status) in any_request:
            # A status of both, e.g. 400: the operation's bad_key or the transport's
            # bad_request (a request that never reached the router).
            if not self.check_response(label, method, any_request[str(status)], status,
                                       headers, body):
                self.rules_used.add("x-any-request %d" % status)
                return []
        self.answered.add((template, method, status))
        if 200 <= status < 400:
            problems += self.check_query(label, template, op, query)
        return problems

    def check_response(self, label, method, response, status, headers, body):
        response = self.resolve(response)
        problems = []
        documented = {name.lower(): self.resolve(h)
                      for name, h in (response.get("headers") or {}).items()}
        for name, header in documented.items():
            if header.get("required") and name not in headers:
                problems.append("%s: the required header %s is missing" % (label, name))
        for name, value in headers.items():
            if name in documented:
                problems += self.schema_problems(documented[name]["schema"], value,
                                                 "%s: header %s %r" % (label, name, value))
            elif name not in TRANSPORT_HEADERS:
                problems.append("%s: the header %s (%r) is not in the document"
                                % (label, name, value))
        content = response.get("content") or {}
        content_type = headers.get("content-type")
        if method == "HEAD" or status in (204, 304):
            if body:
                problems.append("%s: a body where none may be: %r" % (label, body[:100]))
            if content and content_type is not None and content_type not in content:
                problems.append("%s: Content-Type %r is not one of %s"
                                % (label, content_type, list(content)))
            return problems
        if not content:
            if body:
                problems.append("%s: the document says no body, got %r" % (label, body[:100]))
            return problems
        if content_type not in content:
            return problems + ["%s: Content-Type %r is not one of %s"
                               % (label, content_type, list(content))]
        media = content[content_type]
        if "x-event-data" in media:
            # Server-Sent Events: each data line's JSON against the event schema.
            events = [line[5:].strip() for line in body.split("\n") if line.startswith("data:")]
            if not events:
                problems.append("%s: no event in the stream's first bytes" % label)
            for data in events:
                try:
                    value = json.loads(data)
                except ValueError as e:
                    problems.append("%s: an event's data is not JSON (%s): %r" % (label, e, data))
                    continue
                problems += self.schema_problems(media["x-event-data"], value,
                                                 "%s: event data" % label)
        schema = media.get("schema")
        if schema is None:
            return problems
        if content_type.split(";")[0].strip() == "application/json":
            try:
                value = json.loads(body)
            except ValueError as e:
                return problems + ["%s: the body is not JSON (%s): %r" % (label, e, body[:100])]
        else:
            value = body
        return problems + self.schema_problems(schema, value, "%s: body" % label)

    def check_query(self, label, template, op, query):
        """A request the server accepted may use only the operation's query parameters,
        with values their schemas allow."""
        params = {}
        for p in self.doc["paths"][template].get("parameters", []) + op.get("parameters", []):
            p = self.resolve(p)
            if p["in"] == "query":
                params[p["name"]] = p
        problems = []
        for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            if name not in params:
                problems.append("%s: the server accepted the query parameter %r, which the "
                                "document does not list" % (label, name))
                continue
            schema = params[name]["schema"]
            resolved = self.resolve(schema)
            if resolved.get("type") == "integer" and re.fullmatch(r"-?[0-9]+", value):
                value = int(value)
            problems += self.schema_problems(schema, value, "%s: parameter %s" % (label, name))
        return problems

    # -- coverage ---------------------------------------------------------------------------
    def missing(self, where, wanted):
        """The operations of `wanted` that no answer from `where` exercised."""
        return sorted(wanted - self.exercised.get(where, set()))

    def aws_operations(self):
        """The operations API Gateway routes to the function (not marked x-aws: false)."""
        return {(t, m) for t, m in self.operations()
                if self.operation(t, m).get("x-aws", True) is not False}

    def unanswered(self):
        """Documented (template, METHOD, status) that no answer showed: for the log."""
        documented = set()
        for template, method in self.operations():
            for status in self.operation(template, method)["responses"]:
                documented.add((template, method, int(status)))
        return sorted(documented - self.answered)
