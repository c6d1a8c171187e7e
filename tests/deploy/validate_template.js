'use strict';
// Validates a CloudFormation/SAM template (as JSON, on stdin) against the official AWS
// JSON schemas vendored in tests/data/cfn-schemas (where each file came from:
// tests/data/cfn-schemas/README.md). Used by test_template.py in place of cfn-lint.
//
//   node validate_template.js SCHEMA_DIR < template.json
//
// prints {"errors": [...], "checked": {resource: [schema, ...]}, "allowed": [...]} (for
// a JSON array of templates on stdin, an array of those) and exits 1 when there are
// errors ("allowed": the registry-schema errors dropped because
// the value is an intrinsic function, see below). What is checked:
//
// 1. The whole template against sam.schema.json (AWS SAM's own schema, draft-04):
//    every AWS::Serverless::* resource strictly (unknown properties, event types and
//    event properties, value types where SAM defines them); other resources only need a
//    Type that is not AWS::Serverless::*. SAM's schema lists resources and events as
//    anyOf over one definition per Type; where a value's Type picks one definition, only
//    that definition's errors are reported (samErrors), so a misspelled property is
//    one readable error, not one per resource or event type SAM knows.
// 2. Properties that SAM passes through unchanged to a CloudFormation resource (SAM's
//    schema accepts anything there: Runtime, MemorySize, Timeout, LoggingConfig, an
//    HttpApi's DefaultRouteSettings, ...) against that CloudFormation type's registry
//    schema. Where SAM's schema says which property it passes to, that is used
//    (`__samPassThrough.schemaPath`, else the "passed directly to the [`X`] property
//    of an `AWS::...` resource" sentence of its description); PASS_THROUGH_OVERRIDES
//    corrects the one place where that sentence names the wrong property. A
//    pass-through property in the template that maps to no vendored schema is an error,
//    not a silent pass.
// 3. Every other resource's Properties against the CloudFormation registry schema of
//    its type (draft-07 plus the registry's own keywords, registered below as
//    annotation-only vocabulary; ajv stays strict about any other unknown keyword),
//    and its read-only properties (Arn, ...) must not be set. A resource type without
//    a vendored schema is an error.
// 4. The template's outline against ENVELOPE_SCHEMA (written here from the
//    CloudFormation template anatomy documentation): section names, parameter and
//    output keys, resource attributes (DeletionPolicy values, ...), logical IDs.
// 5. References: every Ref, Fn::GetAtt, ${...} in Fn::Sub and condition name points at
//    something the template declares (or a pseudo parameter); Fn::GetAtt on a registry
//    type names one of its read-only properties.
//
// Intrinsic functions. The registry schemas (2, 3) describe resolved values, so
// {"Ref": ...}, {"Fn::Sub": ...}, {"Fn::If": [...]} ... stand where a string, number
// or object is expected. First, expand() resolves what the template itself decides:
// both branches of each Fn::If are validated, {"Ref": "AWS::NoValue"} removes its key,
// and a Ref to a parameter with AllowedValues is tried with each allowed value. Then an
// error is dropped only when the value at its instance path, or one of that value's
// parents inside the property, is still an intrinsic-function object: an object with
// exactly one key from INTRINSICS (a misspelled function such as {"Reff": ...} is not
// one, and is reported). So {"Ref": "SomeResource"}, Fn::GetAtt and Fn::Sub values are
// opaque: nothing is known about the string they become. Dropped errors are listed
// under "allowed". An anyOf/oneOf error that remains is kept, so an intrinsic below an
// anyOf/oneOf makes the check fail rather than pass unseen. The SAM schema (1) gets no
// such allowance: it spells out itself where SAM accepts an intrinsic.
//
// Not checked: what only the SAM transform or the CloudFormation service know (the
// resources SAM generates and references to them, IAM policy grammar inside
// PolicyDocument, whether a Fn::GetAtt attribute exists on an AWS::Serverless::*
// resource, Lambda runtime names (the registry schema has no list), regional
// availability, service quotas), the value an opaque intrinsic becomes, and
// pass-through properties nested below the top level of a SAM resource's Properties
// (e.g. an HttpApi event's RouteSettings, which SAM's schema accepts as anything).
//
// Registry patterns are Java regular expressions; javaPattern() turns \A, \Z and \z
// into ^ and $ and compiles with the u flag, or without it if the pattern needs that
// and uses no \p{...} class; anything else that does not compile is an error.
//
// Runs on Node.js 18 and later (CommonJS, nothing newer than Node 18).

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const Ajv04 = require('ajv-draft-04');

// Keywords of sam.schema.json that are documentation only.
const SAM_KEYWORDS = ['__samPassThrough', 'markdownDescription'];

// Keywords of the CloudFormation resource provider definition schema
// (aws-cloudformation/cloudformation-resource-schema, provider.definition.schema.v1.json)
// that describe handlers, identifiers and tagging, not the shape of a value.
const REGISTRY_KEYWORDS = [
  'typeName', 'sourceUrl', 'documentationUrl', 'replacementStrategy', 'taggable',
  'tagging', 'handlers', 'propertyTransform', 'readOnlyProperties', 'writeOnlyProperties',
  'createOnlyProperties', 'conditionalCreateOnlyProperties', 'nonPublicProperties',
  'nonPublicDefinitions', 'deprecatedProperties', 'primaryIdentifier',
  'additionalIdentifiers', 'resourceLink', 'insertionOrder', 'arrayType',
  'relationshipRef',
];

// Functions that may stand for a property value. Fn::And, Fn::Equals, Fn::Not and
// Fn::Or are condition functions, valid only in Conditions and Fn::If's condition.
const INTRINSICS = new Set([
  'Ref', 'Fn::Base64', 'Fn::Cidr', 'Fn::FindInMap', 'Fn::GetAtt', 'Fn::GetAZs', 'Fn::If',
  'Fn::ImportValue', 'Fn::Join', 'Fn::Length', 'Fn::Select', 'Fn::Split', 'Fn::Sub',
  'Fn::ToJsonString', 'Fn::Transform',
]);

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition',
  'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix',
]);

// SAM's description of HttpApi.DefaultRouteSettings names the Stage's RouteSettings (a
// map keyed by route), but SAM's generator (samtranslator/model/api/http_api_generator.py)
// sets the Stage's DefaultRouteSettings, which has the shape used here.
const PASS_THROUGH_OVERRIDES = {
  'AWS::Serverless::HttpApi': {
    DefaultRouteSettings: {
      type: 'AWS::ApiGatewayV2::Stage', pointer: '/properties/DefaultRouteSettings',
    },
  },
};

const LOGICAL_ID = '^[A-Za-z0-9]+$';

// The outline of a template, after the CloudFormation user guide's "Template anatomy",
// "Parameters", "Outputs" and "Resource attribute reference" pages, plus SAM's Globals
// section.
const ENVELOPE_SCHEMA = {
  type: 'object',
  required: ['Resources'],
  additionalProperties: false,
  properties: {
    AWSTemplateFormatVersion: { enum: ['2010-09-09'] },
    Description: { type: 'string', maxLength: 1024 },
    Metadata: { type: 'object' },
    Transform: {},
    Globals: { type: 'object' },
    Parameters: {
      type: 'object',
      maxProperties: 200,
      propertyNames: { pattern: LOGICAL_ID },
      additionalProperties: {
        type: 'object',
        required: ['Type'],
        additionalProperties: false,
        properties: {
          Type: {
            type: 'string',
            pattern: '^(String|Number|List<Number>|CommaDelimitedList|AWS::[A-Za-z0-9:]+|' +
                     'List<AWS::[A-Za-z0-9:]+>|AWS::SSM::Parameter::(Name|Value<.+>))$',
          },
          Default: { type: ['string', 'number', 'integer', 'boolean', 'array'] },
          AllowedValues: { type: 'array', minItems: 1 },
          AllowedPattern: { type: 'string' },
          ConstraintDescription: { type: 'string' },
          Description: { type: 'string', maxLength: 4000 },
          MaxLength: { type: 'integer', minimum: 0 },
          MinLength: { type: 'integer', minimum: 0 },
          MaxValue: { type: 'number' },
          MinValue: { type: 'number' },
          NoEcho: { type: ['boolean', 'string'] },
        },
      },
    },
    Rules: { type: 'object' },
    Mappings: { type: 'object', propertyNames: { pattern: LOGICAL_ID } },
    Conditions: { type: 'object', propertyNames: { pattern: LOGICAL_ID } },
    Resources: {
      type: 'object',
      minProperties: 1,
      maxProperties: 500,
      propertyNames: { pattern: LOGICAL_ID },
      additionalProperties: {
        type: 'object',
        required: ['Type'],
        properties: {
          Type: { type: 'string' },
          Properties: { type: 'object' },
          Condition: { type: 'string' },
          DependsOn: { type: ['string', 'array'], items: { type: 'string' } },
          DeletionPolicy: { enum: ['Delete', 'Retain', 'RetainExceptOnDelete', 'Snapshot'] },
          UpdateReplacePolicy: { enum: ['Delete', 'Retain', 'Snapshot'] },
          Metadata: { type: 'object' },
          CreationPolicy: { type: 'object' },
          UpdatePolicy: { type: 'object' },
        },
        // AWS::Serverless::* resources also take SAM's own attributes (Connectors,
        // IgnoreGlobals); sam.schema.json checks those resources' attributes.
        if: { properties: { Type: { type: 'string', pattern: '^AWS::Serverless::' } } },
        else: {
          propertyNames: {
            enum: ['Type', 'Properties', 'Condition', 'DependsOn', 'DeletionPolicy',
                   'UpdateReplacePolicy', 'Metadata', 'CreationPolicy', 'UpdatePolicy'],
          },
        },
      },
    },
    Outputs: {
      type: 'object',
      maxProperties: 200,
      propertyNames: { pattern: LOGICAL_ID },
      additionalProperties: {
        type: 'object',
        required: ['Value'],
        additionalProperties: false,
        properties: {
          Description: { type: 'string', maxLength: 1024 },
          Value: {},
          Export: {
            type: 'object', required: ['Name'], additionalProperties: false,
            properties: { Name: {} },
          },
          Condition: { type: 'string' },
        },
      },
    },
  },
};

// A Java regular expression (what the CloudFormation registry uses) as a JS RegExp.
function javaPattern(pattern) {
  const js = pattern.replace(/(\\\\)|\\A|\\[Zz]/g, (all, backslashes) => {
    if (backslashes) return backslashes;
    return all === '\\A' ? '^' : '$';
  });
  try {
    return new RegExp(js, 'u');
  } catch (unicodeError) {
    if (/\\[pP]\{/.test(js)) throw unicodeError;
    return new RegExp(js);
  }
}
javaPattern.code = 'javaPattern';

function isIntrinsic(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && INTRINSICS.has(keys[0]);
}

function pointerTokens(pointer) {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(data, pointer) {
  let value = data;
  for (const token of pointerTokens(pointer)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = value[token];
  }
  return value;
}

// True if the value at `pointer` in `data`, or one of its parents, is an intrinsic.
function underIntrinsic(data, pointer) {
  let value = data;
  if (isIntrinsic(value)) return true;
  for (const token of pointerTokens(pointer)) {
    if (value === null || typeof value !== 'object' || !(token in value)) return false;
    value = value[token];
    if (isIntrinsic(value)) return true;
  }
  return false;
}

// Stands for a value that {"Ref": "AWS::NoValue"} removes.
const NO_VALUE = Symbol('AWS::NoValue');
// The function's environment alone has 3,072 (eleven variables of two or three values).
const MAX_VARIANTS = 4096;

// The values `value` can take once CloudFormation resolves it, as far as the template
// says: both branches of every Fn::If, {"Ref": "AWS::NoValue"} as an absent key or item,
// and a Ref to a parameter that has AllowedValues as each allowed value (as written in
// the template). Other intrinsics stay as they are.
function expand(value, parameters) {
  if (isIntrinsic(value)) {
    const [fn] = Object.keys(value);
    const arg = value[fn];
    if (fn === 'Fn::If' && Array.isArray(arg) && arg.length === 3) {
      return unique([...expand(arg[1], parameters), ...expand(arg[2], parameters)]);
    }
    if (fn === 'Ref' && arg === 'AWS::NoValue') return [NO_VALUE];
    if (fn === 'Ref' && typeof arg === 'string' &&
        Object.prototype.hasOwnProperty.call(parameters, arg) &&
        Array.isArray(parameters[arg].AllowedValues)) {
      return unique(parameters[arg].AllowedValues);
    }
    return [value];
  }
  if (value === null || typeof value !== 'object') return [value];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  let results = [Array.isArray(value) ? [] : {}];
  for (const [key, item] of entries) {
    const options = expand(item, parameters);
    if (results.length * options.length > MAX_VARIANTS) {
      throw new Error(`more than ${MAX_VARIANTS} combinations of Fn::If branches and ` +
                      'parameter values');
    }
    const next = [];
    for (const partial of results) {
      for (const option of options) {
        if (option === NO_VALUE) {
          next.push(partial);
        } else if (Array.isArray(partial)) {
          next.push([...partial, option]);
        } else {
          next.push({ ...partial, [key]: option });
        }
      }
    }
    results = next;
  }
  return unique(results);
}

function unique(values) {
  const seen = new Map();
  for (const v of values) seen.set(v === NO_VALUE ? v : JSON.stringify(v), v);
  return [...seen.values()];
}

function describe(error) {
  const p = error.params || {};
  let message = error.message;
  if (p.additionalProperty !== undefined) message += `: ${JSON.stringify(p.additionalProperty)}`;
  if (p.allowedValues !== undefined) message += `: ${JSON.stringify(p.allowedValues)}`;
  if (p.propertyName !== undefined) message += `: ${JSON.stringify(p.propertyName)}`;
  return message;
}

const SAM_FILE = 'sam.schema.json';
const SAM_ANY_RESOURCE = 'samtranslator__internal__schema_source__any_cfn_resource__Resource';

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const objectAt = (object, key) => (isObject(object) && isObject(object[key]) ? object[key] : {});

// Loads the schemas once; returns a function that validates one template.
function makeValidator(schemaDir) {
  // Strict about unknown keywords (beyond the vocabularies registered here) and formats;
  // not about the loose typing and `required` lists the upstream schemas have.
  const strictness = {
    strict: true, strictTypes: false, strictRequired: false, strictTuples: false,
  };
  const sam = JSON.parse(fs.readFileSync(path.join(schemaDir, 'sam', SAM_FILE), 'utf8'));
  const samAjv = new Ajv04({ allErrors: true, verbose: true, ...strictness,
                             code: { regExp: javaPattern } });
  samAjv.addVocabulary(SAM_KEYWORDS);
  samAjv.addSchema(sam, SAM_FILE);

  const registryAjv = new Ajv({ allErrors: true, ...strictness, code: { regExp: javaPattern } });
  registryAjv.addVocabulary(REGISTRY_KEYWORDS);
  const registry = {};
  const registryDir = path.join(schemaDir, 'registry');
  for (const file of fs.readdirSync(registryDir).filter((f) => f.endsWith('.json')).sort()) {
    const schema = JSON.parse(fs.readFileSync(path.join(registryDir, file), 'utf8'));
    // Some registry schemas name their meta-schema (provider.definition.schema.v1.json)
    // in $schema; it describes schema documents, not templates, so it is not loaded.
    delete schema.$schema;
    if (registry[schema.typeName]) throw new Error(`two schemas for ${schema.typeName}`);
    registryAjv.addSchema(schema, file);
    registry[schema.typeName] = { file, schema };
  }

  const envelope = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
    .compile(ENVELOPE_SCHEMA);

  const validators = new Map();
  const validatorFor = (ajv, ref) => {
    if (!validators.has(ref)) validators.set(ref, ajv.getSchema(ref) || null);
    const validate = validators.get(ref);
    if (!validate) throw new Error(`no schema at ${ref}`);
    return validate;
  };

  // SAM's schema lists resources and events as anyOf over one definition per Type, so
  // ajv reports every branch that did not match. Where the value has a Type that picks
  // exactly one branch, only that branch's errors are kept; a Type no branch takes is
  // one error.
  const samErrors = (data, ref) => {
    const validate = validatorFor(samAjv, ref);
    if (validate(data)) return [];
    const errors = validate.errors.map((e) => ({ ...e, schemaPath: `${ref} ${e.schemaPath}` }));
    const replaced = [];
    const isReplaced = (p) => replaced.some((root) => p === root || p.startsWith(`${root}/`));
    const out = [];
    const anyOfs = errors.filter((e) => e.keyword === 'anyOf')
      .sort((a, b) => a.instancePath.length - b.instancePath.length);
    for (const error of anyOfs) {
      if (isReplaced(error.instancePath)) continue;
      const value = valueAt(data, error.instancePath);
      if (!isObject(value) || typeof value.Type !== 'string') continue;
      const branches = error.schema.map((branch) => {
        const name = typeof branch.$ref === 'string'
          ? branch.$ref.replace('#/definitions/', '') : '';
        const types = valueAt(sam.definitions, `/${name}/properties/Type/enum`);
        return { name, types: Array.isArray(types) ? types : null };
      });
      if (branches.some((b) => !b.types && b.name !== SAM_ANY_RESOURCE)) continue;
      const chosen = branches.filter((b) => b.types && b.types.includes(value.Type));
      replaced.push(error.instancePath);
      if (chosen.length === 1) {
        for (const e of samErrors(value, `${SAM_FILE}#/definitions/${chosen[0].name}`)) {
          out.push({ ...e, instancePath: error.instancePath + e.instancePath });
        }
      } else {
        const known = [].concat(...branches.map((b) => b.types || []));
        out.push({ instancePath: `${error.instancePath}/Type`, schemaPath: error.schemaPath,
                   message: `${JSON.stringify(value.Type)} is none of the types SAM ` +
                            `accepts here: ${known.join(', ')}` });
      }
    }
    return out.concat(errors.filter((e) => !isReplaced(e.instancePath)));
  };

  return (template) => {
    const errors = [];
    const checked = {};
    const allowed = [];
    const report = (where, at, message, schema) => {
      errors.push({ where, path: at, message, schema });
    };
    const note = (resource, schema) => {
      (checked[resource] = checked[resource] || []).push(schema);
    };
    if (!isObject(template)) {
      report('template', '', 'a template is a JSON object', '');
      return { errors, checked, allowed };
    }
    const parameters = objectAt(template, 'Parameters');
    const resources = objectAt(template, 'Resources');

    // Registry validation of every variant (see expand()), with the intrinsic-function
    // allowance described at the top.
    const checkRegistry = (where, basePath, data, ref) => {
      const validate = validatorFor(registryAjv, ref);
      let variants;
      try {
        variants = expand(data, parameters);
      } catch (error) {
        report(where, basePath, error.message, ref);
        return;
      }
      const seen = new Set();
      for (const variant of variants) {
        if (variant === NO_VALUE || validate(variant)) continue;
        for (const error of validate.errors) {
          const item = { where, path: basePath + error.instancePath, message: describe(error) };
          const key = JSON.stringify(item);
          if (seen.has(key)) continue;
          seen.add(key);
          if (underIntrinsic(variant, error.instancePath)) {
            allowed.push(item);
            continue;
          }
          if (variants.length > 1) {
            const shown = valueAt(variant, error.instancePath);
            const value = isObject(shown) || Array.isArray(shown)
              ? '' : `value ${JSON.stringify(shown)}, `;
            item.message += ` (${value}in one of the ${variants.length} combinations of ` +
                            'Fn::If branches and parameter AllowedValues)';
          }
          report(item.where, item.path, item.message, `${ref} ${error.schemaPath}`);
        }
      }
    };

    // 4. The outline.
    if (!envelope(template)) {
      for (const error of envelope.errors) {
        report('template', error.instancePath, describe(error),
               `ENVELOPE_SCHEMA ${error.schemaPath}`);
      }
    }

    // 1. The whole template against SAM's schema; errors named after their resource.
    for (const error of samErrors(template, SAM_FILE)) {
      const m = /^\/Resources\/([^/]+)(.*)$/.exec(error.instancePath);
      if (m) report(m[1], m[2], describe(error), error.schemaPath);
      else report('template', error.instancePath, describe(error), error.schemaPath);
    }

    for (const [name, resource] of Object.entries(resources)) {
      if (!isObject(resource) || typeof resource.Type !== 'string') continue;
      const type = resource.Type;
      const props = objectAt(resource, 'Properties');
      if (type.startsWith('AWS::Serverless::')) {
        const id = 'samtranslator__internal__schema_source__aws_serverless_' +
                   `${type.slice('AWS::Serverless::'.length).toLowerCase()}__Resource`;
        const definition = sam.definitions[id];
        if (!definition) {
          report(name, '/Type', `no definition for ${type} in ${SAM_FILE}`, SAM_FILE);
          continue;
        }
        // Checked in 1. against this definition.
        const ref = `${SAM_FILE}#/definitions/${id}`;
        note(name, ref);
        // 2. Pass-through properties.
        const propsRef = valueAt(definition, '/properties/Properties/$ref') || '';
        const propsDefinition = sam.definitions[propsRef.replace('#/definitions/', '')] || {};
        for (const [key, value] of Object.entries(props)) {
          const propSchema = objectAt(propsDefinition, 'properties')[key];
          if (!propSchema || !isPassThrough(propSchema)) continue;
          const target = passThroughTarget(type, key, propSchema);
          const at = `/Properties/${key}`;
          if (!target) {
            report(name, at, `SAM passes ${key} on unchecked, to a property not known here`, ref);
            continue;
          }
          const entry = registry[target.type];
          if (!entry) {
            report(name, at, `SAM passes ${key} on to ${target.type}, which has no vendored ` +
                             'schema', ref);
            continue;
          }
          if (valueAt(entry.schema, target.pointer) === undefined) {
            report(name, at, `SAM passes ${key} on to ${target.type}, but ${entry.file} has ` +
                             `nothing at ${target.pointer}`, ref);
            continue;
          }
          const targetRef = `${entry.file}#${target.pointer}`;
          checkRegistry(name, at, value, targetRef);
          note(name, targetRef);
        }
        continue;
      }
      // 3. Registry types.
      const entry = registry[type];
      if (!entry) {
        report(name, '/Type', `no vendored schema for ${type}: add its registry schema to ` +
                              registryDir, '');
        continue;
      }
      checkRegistry(name, '/Properties', props, entry.file);
      for (const pointer of entry.schema.readOnlyProperties || []) {
        const tokens = pointerTokens(pointer);
        if (tokens[0] === 'properties' && tokens.length === 2 && has(props, tokens[1])) {
          report(name, `/Properties/${tokens[1]}`,
                 `${tokens[1]} is read-only (an attribute, not a property)`,
                 `${entry.file} readOnlyProperties`);
        }
      }
      note(name, entry.file);
    }

    // 5. References.
    checkReferences(template, registry, report);
    return { errors, checked, allowed };
  };
}

function isPassThrough(propSchema) {
  const passThrough = (s) => isObject(s) && s.$ref === '#/definitions/PassThroughProp';
  return Boolean(propSchema.__samPassThrough) || passThrough(propSchema) ||
    (Array.isArray(propSchema.allOf) && propSchema.allOf.some(passThrough));
}

// {type, pointer} of the registry property a SAM property is passed on to, or null.
function passThroughTarget(samType, key, propSchema) {
  const override = (PASS_THROUGH_OVERRIDES[samType] || {})[key];
  if (override) return override;
  const marker = propSchema.__samPassThrough || {};
  const schemaPath = marker.schemaPath;
  if (Array.isArray(schemaPath) && schemaPath[0] === 'definitions') {
    // ["definitions", "AWS::Lambda::Function", "properties", "Properties", "properties", X]
    // or ["definitions", "AWS::Lambda::Function.Code", "properties", X]
    const [typeName, sub] = schemaPath[1].split('.');
    const rest = schemaPath.slice(2);
    if (!sub && rest.length === 4 && rest[0] === 'properties' && rest[1] === 'Properties' &&
        rest[2] === 'properties') {
      return { type: typeName, pointer: `/properties/${rest[3]}` };
    }
    if (sub && rest.length === 2 && rest[0] === 'properties') {
      return { type: typeName, pointer: `/definitions/${sub}/properties/${rest[1]}` };
    }
    return null;
  }
  const text = propSchema.markdownDescription || marker.markdownDescriptionOverride || '';
  const found = new RegExp('passed directly to the \\[`(\\w+)`\\]\\([^)]*\\) property of an ' +
                           '`(AWS::\\w+::\\w+)` resource').exec(text);
  return found ? { type: found[2], pointer: `/properties/${found[1]}` } : null;
}

// 5. Every Ref, Fn::GetAtt, Fn::Sub variable, DependsOn and condition name resolves.
function checkReferences(template, registry, report) {
  const parameters = objectAt(template, 'Parameters');
  const conditions = objectAt(template, 'Conditions');
  const resources = objectAt(template, 'Resources');
  const checkRef = (where, at, target) => {
    if (typeof target !== 'string' || !(has(parameters, target) || has(resources, target) ||
                                        PSEUDO_PARAMETERS.has(target))) {
      report(where, at, `Ref to ${JSON.stringify(target)}, which is neither a parameter, a ` +
                        'resource nor a pseudo parameter', '');
    }
  };
  const checkGetAtt = (where, at, resource, attribute) => {
    if (typeof resource !== 'string' || !has(resources, resource)) {
      report(where, at, `Fn::GetAtt on ${JSON.stringify(resource)}, which is not a resource`, '');
      return;
    }
    const type = resources[resource].Type;
    const entry = registry[type];
    if (!entry || typeof attribute !== 'string') return;
    const attributes = (entry.schema.readOnlyProperties || [])
      .map((p) => pointerTokens(p).slice(1).join('.'));
    if (!attributes.includes(attribute)) {
      report(where, at, `${type} has no attribute ${attribute} (${entry.file} lists ` +
                        `${attributes.join(', ')})`, entry.file);
    }
  };
  const checkCondition = (where, at, name) => {
    if (typeof name !== 'string' || !has(conditions, name)) {
      report(where, at, `condition ${JSON.stringify(name)} is not declared in Conditions`, '');
    }
  };
  const walk = (where, at, value) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(where, `${at}/${i}`, item));
      return;
    }
    if (!isObject(value)) return;
    const keys = Object.keys(value);
    const arg = value[keys[0]];
    if (keys.length === 1 && keys[0] === 'Ref') {
      checkRef(where, at, arg);
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [resource, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/s);
      checkGetAtt(where, at, resource, attribute);
      if (Array.isArray(arg)) walk(where, `${at}/Fn::GetAtt/1`, arg[1]);
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
      const own = isObject(variables) ? variables : {};
      if (typeof text === 'string') {
        for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const name = m[1].trim();
          if (has(own, name)) continue;
          const dot = name.indexOf('.');
          if (dot > 0 && !name.startsWith('AWS::')) {
            checkGetAtt(where, `${at}/Fn::Sub`, name.slice(0, dot), name.slice(dot + 1));
          } else {
            checkRef(where, `${at}/Fn::Sub`, name);
          }
        }
      }
      walk(where, `${at}/Fn::Sub/1`, own);
      return;
    }
    if (keys.length === 1 && keys[0] === 'Fn::If') {
      if (!Array.isArray(arg) || arg.length !== 3) {
        report(where, at, 'Fn::If takes [condition, value if true, value if false]', '');
        return;
      }
      checkCondition(where, `${at}/Fn::If/0`, arg[0]);
      walk(where, `${at}/Fn::If/1`, arg[1]);
      walk(where, `${at}/Fn::If/2`, arg[2]);
      return;
    }
    if (keys.length === 1 && keys[0] === 'Condition' && where.startsWith('Conditions/')) {
      checkCondition(where, at, arg);
      return;
    }
    for (const key of keys) {
      walk(where, `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, value[key]);
    }
  };
  for (const [name, resource] of Object.entries(resources)) {
    if (!isObject(resource)) continue;
    if (resource.Condition !== undefined) checkCondition(name, '/Condition', resource.Condition);
    for (const dependency of [].concat(resource.DependsOn || [])) {
      if (!has(resources, dependency)) {
        report(name, '/DependsOn', `DependsOn ${JSON.stringify(dependency)}, which is not a ` +
                                   'resource', '');
      }
    }
    walk(name, '/Properties', resource.Properties);
  }
  for (const [name, condition] of Object.entries(conditions)) {
    walk(`Conditions/${name}`, '', condition);
  }
  for (const [name, output] of Object.entries(objectAt(template, 'Outputs'))) {
    if (!isObject(output)) continue;
    const where = `Outputs/${name}`;
    if (output.Condition !== undefined) checkCondition(where, '/Condition', output.Condition);
    walk(where, '', output);
  }
}

// stdin: one template, or an array of templates (one result each, in order).
function main() {
  const schemaDir = process.argv[2];
  if (!schemaDir || process.argv.length !== 3) {
    throw new Error('usage: node validate_template.js SCHEMA_DIR < template.json');
  }
  const validate = makeValidator(schemaDir);
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const results = Array.isArray(input) ? input.map(validate) : [validate(input)];
  process.stdout.write(JSON.stringify(Array.isArray(input) ? results : results[0], null, 1) + '\n');
  process.exitCode = results.some((r) => r.errors.length) ? 1 : 0;
}

main();
