"""The domain model: node kinds, edge kinds, which kinds an edge may join, and attribute rules.

The attribute rules come from the JSON Schema of the native format (``lineage/schema.json``,
also at ``sample_graphs/schema.json``), compiled once into plain Python checks so that a
million records validate in seconds and every problem names its record and field.

Examples
--------
>>> allowed_edge("enters", "person", "dataset")
True
>>> edge_rule_problem("decision", "person", "enters")
"an 'enters' edge cannot join decision -> person; it joins person -> dataset or system"
>>> [p.field for p in validate_node({"id": "r", "kind": "dataset", "name": "R",
...                                  "quality": {"timeliness": 1.7}}, "x.json: nodes[0]")]
['quality.timeliness']
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any

from .errors import Problem

NODE_KINDS: tuple[str, ...] = ("person", "team", "system", "dataset", "process", "ai_tool", "decision")
"""Node kinds, in the order data flows (left to right in pictures)."""

EDGE_RULES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "enters": (frozenset({"person"}), frozenset({"system", "dataset"})),
    "member_of": (frozenset({"person"}), frozenset({"team"})),
    "supplies": (frozenset({"system"}), frozenset({"dataset"})),
    # ai_tool -> dataset: an AI tool that writes its scores to a table (an OpenLineage job's outputs).
    "derives": (frozenset({"dataset", "process", "ai_tool"}), frozenset({"dataset", "process"})),
    "feeds": (frozenset({"dataset"}), frozenset({"ai_tool", "process"})),
    "informs": (frozenset({"dataset", "ai_tool", "process"}), frozenset({"decision"})),
    "records_outcome": (frozenset({"decision"}), frozenset({"dataset"})),
    # A task's job -> the job it runs under (an Airflow DAG, a Spark application): OpenLineage's parent run facet.
    "part_of": (frozenset({"process", "ai_tool"}), frozenset({"process", "ai_tool"})),
}
"""Edge kind -> (allowed source kinds, allowed target kinds)."""

EDGE_KINDS: tuple[str, ...] = tuple(EDGE_RULES)
STRUCTURE_EDGE_KINDS: frozenset[str] = frozenset({"member_of", "part_of"})
"""Edges that say what belongs to what (a person to a team, a task to its job), not where data goes."""
FLOW_EDGE_KINDS: frozenset[str] = frozenset(EDGE_KINDS) - STRUCTURE_EDGE_KINDS
"""Edges that carry data; lineage traversal follows these only."""

QUALITY_DIMENSIONS: tuple[str, ...] = (
    "completeness", "uniqueness", "consistency", "timeliness", "validity", "accuracy",
)
"""The six Government Data Quality Framework dimensions."""

RAG_THRESHOLDS: tuple[tuple[float, str], ...] = ((0.9, "green"), (0.7, "amber"), (0.0, "red"))
"""A score of at least 0.9 is green, at least 0.7 amber, anything lower red."""
RAGS: tuple[str, ...] = ("red", "amber", "green")
"""RAG ratings, worst first."""

NODE_CORE_FIELDS: tuple[str, ...] = ("id", "kind", "name")
EDGE_CORE_FIELDS: tuple[str, ...] = ("source", "target", "kind")

FORMAT = "lineage-graph/1"


def load_schema() -> dict[str, Any]:
    """Return the JSON Schema of the native file format."""
    return json.loads(resources.files("lineage").joinpath("schema.json").read_text("utf-8"))


# ---------------------------------------------------------------------------------------------
# Compiling the schema into checks. A check takes a value and returns a list of
# (field suffix, message) pairs: empty when the value is fine.

Check = Callable[[Any], list[tuple[str, str]]]

_TYPE_NAMES = {
    "string": "text", "integer": "a whole number", "number": "a number",
    "boolean": "true or false", "array": "a list", "object": "an object",
}


def _is_type(value: Any, type_name: str) -> bool:
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if type_name == "number":
        return type(value) is int or (type(value) is float and -math.inf < value < math.inf)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    raise ValueError(f"schema type {type_name!r} is not supported")


def _describe(schema: Mapping[str, Any]) -> str:
    """What a value must be, in words, for error messages."""
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    words = _TYPE_NAMES.get(schema.get("type", ""), "a value")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{words} from {_number(low)} to {_number(high)}"
    if low is not None:
        return f"{words} >= {_number(low)}"
    if "pattern" in schema and schema.get("description"):
        return f"{words}: {schema['description']}"
    return words


_BOUNDS = {"minimum": "{v} >= {limit!r}", "maximum": "{v} <= {limit!r}",
           "minLength": "len({v}) >= {limit!r}", "maxLength": "len({v}) <= {limit!r}"}
"""Schema bounds as Python comparisons, for the compiled validators."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _number(value: float) -> str:
    """A bound in words: 1,000,000,000,000,000 rather than 1e+15."""
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10**6 else f"{value:g}"


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    if CONTROL_CHARACTERS.search(text):  # a lone surrogate would break the message itself
        text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


class _Compiler:
    def __init__(self, root: Mapping[str, Any]):
        self.root = root

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            path = schema["$ref"].removeprefix("#/").split("/")
            target: Any = self.root
            for part in path:
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def compile(self, schema: Mapping[str, Any]) -> Check:
        schema = self.resolve(schema)
        if "oneOf" in schema:
            return self._alternatives([self.compile(s) for s in schema["oneOf"]], schema)
        expected = _describe(schema)
        checks: list[Callable[[Any], bool]] = []
        if "type" in schema:
            checks.append(lambda v, t=schema["type"]: _is_type(v, t))
        if "enum" in schema:
            checks.append(lambda v, allowed=tuple(schema["enum"]): v in allowed)
        if "const" in schema:
            checks.append(lambda v, c=schema["const"]: v == c)
        if "minimum" in schema:
            checks.append(lambda v, m=schema["minimum"]: v >= m)
        if "maximum" in schema:
            checks.append(lambda v, m=schema["maximum"]: v <= m)
        if "minLength" in schema:
            checks.append(lambda v, m=schema["minLength"]: len(v) >= m)
        if "pattern" in schema:
            checks.append(lambda v, p=re.compile(schema["pattern"]): p.search(v) is not None)
        if schema.get("format") == "date":
            checks.append(lambda v: _DATE.match(v) is not None)
        max_length = schema.get("maxLength")
        item_check = self.compile(schema["items"]) if "items" in schema else None
        object_check = self._object(schema) if "properties" in schema and schema.get("type") == "object" else None

        def check(value: Any) -> list[tuple[str, str]]:
            for test in checks:
                if not test(value):
                    return [("", f"expected {expected}, got {_shown(value)}")]
            if max_length is not None and len(value) > max_length:
                return [("", f"expected at most {max_length} characters, got {len(value)}")]
            if item_check is not None:
                return [(f"[{i}]{sub}", msg) for i, item in enumerate(value) for sub, msg in item_check(item)]
            if object_check is not None:
                return object_check(value)
            return []

        return check

    def predicate(self, schema: Mapping[str, Any]) -> Callable[[Any], bool]:
        """A fast yes/no test of the same rules, compiled to one Python expression.

        Validation asks it first and builds messages (``compile``) only for values that fail, so a
        million valid records cost one call per attribute.
        """
        namespace: dict[str, Any] = {}
        return eval(f"lambda v: {self._expression(schema, 'v', namespace)}", namespace)  # noqa: S307 (our schema)

    def _expression(self, schema: Mapping[str, Any], var: str, namespace: dict[str, Any]) -> str:
        schema = self.resolve(schema)

        def constant(value: Any) -> str:
            name = f"c{len(namespace)}"
            namespace[name] = value
            return name

        if "oneOf" in schema:  # our alternatives differ by JSON type, so "one of" is "any of"
            return "(" + " or ".join(f"({self._expression(s, var, namespace)})" for s in schema["oneOf"]) + ")"
        terms = []
        inf = constant(math.inf)
        type_name = schema.get("type")
        if type_name is not None:
            terms.append({
                "string": f"type({var}) is str", "boolean": f"type({var}) is bool",
                "integer": f"(type({var}) is int or (type({var}) is float and {var}.is_integer()))",
                "number": f"(type({var}) is int or (type({var}) is float and -{inf} < {var} < {inf}))",
                "array": f"type({var}) is list",
                "object": f"type({var}) is dict"}[type_name])
        if "enum" in schema:
            terms.append(f"{var} in {constant(tuple(schema['enum']))}")
        if "const" in schema:
            terms.append(f"{var} == {constant(schema['const'])}")
        terms += [template.format(v=var, limit=schema[keyword]) for keyword, template in _BOUNDS.items()
                  if keyword in schema]
        if "pattern" in schema:
            terms.append(f"{constant(re.compile(schema['pattern']))}.search({var}) is not None")
        if schema.get("format") == "date":
            terms.append(f"{constant(_DATE)}.match({var}) is not None")
        if "items" in schema:
            terms.append(f"all({constant(self.predicate(schema['items']))}(x) for x in {var})")
        if "properties" in schema and type_name == "object":
            terms.append(f"{constant(self._object_predicate(schema))}({var})")
        return " and ".join(terms) or "True"

    def _object_predicate(self, schema: Mapping[str, Any]) -> Callable[[dict], bool]:
        properties = {name: self.predicate(sub) for name, sub in schema["properties"].items()}
        closed = schema.get("additionalProperties") is False
        required_any = [alt["required"] for alt in schema.get("anyOf", []) if "required" in alt]

        def valid(value: dict) -> bool:
            for key, item in value.items():
                test = properties.get(key)
                if test is None:
                    if closed:
                        return False
                elif not test(item):
                    return False
            return not required_any or any(all(k in value for k in keys) for keys in required_any)

        return valid

    def _object(self, schema: Mapping[str, Any]) -> Check:
        properties = {name: self.compile(sub) for name, sub in schema["properties"].items()}
        closed = schema.get("additionalProperties") is False
        required_any = [alt["required"] for alt in schema.get("anyOf", []) if "required" in alt]

        def check(value: dict) -> list[tuple[str, str]]:
            problems: list[tuple[str, str]] = []
            for key, item in value.items():
                if key in properties:
                    problems += [(f".{key}{sub}", msg) for sub, msg in properties[key](item)]
                elif closed:
                    problems.append((f".{key}", "expected one of: " + ", ".join(properties)))
            if required_any and not any(all(k in value for k in keys) for keys in required_any):
                names = " or ".join("/".join(keys) for keys in required_any)
                problems.append(("", f"expected at least {names}"))
            return problems

        return check

    @staticmethod
    def _alternatives(alternatives: list[Check], schema: Mapping[str, Any]) -> Check:
        def check(value: Any) -> list[tuple[str, str]]:
            results = [alternative(value) for alternative in alternatives]
            if any(not problems for problems in results):
                return []
            # Report the alternative the value came closest to: the one of its own JSON type.
            for problems in results:
                if all(sub for sub, _ in problems):
                    return problems
            return results[0]

        return check


def _not_finite(value: Any) -> bool:
    """Whether an attribute the schema does not name holds NaN or an infinity anywhere."""
    if type(value) is float:
        return not -math.inf < value < math.inf
    if type(value) is list:
        return any(_not_finite(item) for item in value)
    if type(value) is dict:
        return any(_not_finite(item) for item in value.values())
    return False


CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Characters no text may hold, anywhere: control characters other than tab, line feed and
carriage return (a NUL broke every picture holding the node), and lone surrogates (half of a
UTF-16 pair: not text, and UTF-8 cannot encode them)."""
MAX_ATTRIBUTE_NAME = 100
"""Longest name of an attribute the schema does not name."""
MAX_ATTRIBUTE_SIZE = 10_000
"""Most characters in the value of an attribute the schema does not name (as JSON, for lists and objects)."""
MAX_NESTING = 32
"""Deepest nesting of lists and objects in an attribute the schema does not name."""


def text_problem(text: str) -> str | None:
    r"""Why a text cannot be stored (a control character or a lone surrogate), or None.

    >>> text_problem("Housing register"), text_problem("Tab\tand\nnew line")
    (None, None)
    >>> text_problem("bad\x00name")
    'expected text without control characters or lone surrogates; found U+0000 (a control character) at character 4'
    """
    found = CONTROL_CHARACTERS.search(text)
    if found is None:
        return None
    char = found.group()
    what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return (f"expected text without control characters or lone surrogates; found U+{ord(char):04X} ({what}) "
            f"at character {found.start() + 1}")


def _bad_inside(value: Any, depth: int = 0) -> bool:
    """Whether any text in a list or object (its keys too) holds a character no text may hold.
    Stops below ``MAX_NESTING`` (deeper is refused anyway)."""
    if depth > MAX_NESTING:
        return False
    if type(value) is str:
        return CONTROL_CHARACTERS.search(value) is not None
    if type(value) is list:
        return any(_bad_inside(item, depth + 1) for item in value)
    if type(value) is dict:
        return any(CONTROL_CHARACTERS.search(key) is not None or _bad_inside(item, depth + 1)
                   for key, item in value.items())
    return False


def _text_findings(value: Any, path: str = "", depth: int = 0) -> list[Finding]:
    """Each text in ``value`` (keys too) that holds a character no text may hold, located."""
    if depth > MAX_NESTING:
        return []
    if type(value) is str:
        problem = text_problem(value)
        return [(path, problem)] if problem else []
    found: list[Finding] = []
    if type(value) is list:
        for i, item in enumerate(value):
            found += _text_findings(item, f"{path}[{i}]", depth + 1)
    elif type(value) is dict:
        for key, item in value.items():
            key_problem = text_problem(key) if isinstance(key, str) else None
            if key_problem:
                found.append((path, f"a name inside it: {key_problem}"))
            else:
                found += _text_findings(item, f"{path}.{key}", depth + 1)
    return found


def _nesting(value: Any, limit: int = MAX_NESTING) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a plain value), counted up to ``limit + 1``."""
    if type(value) is list:
        items: Iterable[Any] = value
    elif type(value) is dict:
        items = value.values()
    else:
        return 0
    if limit < 0:
        return 1
    return 1 + max((_nesting(item, limit - 1) for item in items), default=0)


def _unknown_findings(field: str, value: Any) -> list[Finding]:
    """What is wrong with an attribute the schema does not name: its name, size, nesting, numbers."""
    if len(field) > MAX_ATTRIBUTE_NAME:
        return [(field[:40] + "...", f"expected attribute names of at most {MAX_ATTRIBUTE_NAME} characters, "
                                     f"got {len(field):,}")]
    if CONTROL_CHARACTERS.search(field):
        return [(json.dumps(field)[1:-1], f"an attribute name: {text_problem(field)}")]
    if type(value) is str:
        if len(value) > MAX_ATTRIBUTE_SIZE:
            return [(field, f"expected at most {MAX_ATTRIBUTE_SIZE:,} characters, got {len(value):,}")]
        return []
    if type(value) is list or type(value) is dict:
        if _nesting(value) > MAX_NESTING:
            return [(field, f"expected lists and objects nested at most {MAX_NESTING} levels deep")]
        size = len(json.dumps(value, default=repr))
        if size > MAX_ATTRIBUTE_SIZE:
            return [(field, f"expected at most {MAX_ATTRIBUTE_SIZE:,} characters (as JSON), got {size:,}")]
    if _not_finite(value):
        return [(field, f"expected finite numbers (SQLite's JSON has no NaN or Infinity), got {_shown(value)}")]
    return []


def _unknown_wrong(field: str, value: Any) -> bool:
    """The quick test of :func:`_unknown_findings` (a plain short text, the common case, costs two checks)."""
    if type(value) is str:
        return len(value) > MAX_ATTRIBUTE_SIZE or len(field) > MAX_ATTRIBUTE_NAME or \
            CONTROL_CHARACTERS.search(field) is not None
    return bool(_unknown_findings(field, value))


Rule = tuple[Callable[[Any], bool], Check]
"""A fast yes/no test, and the check that explains a failure."""


def _compile_rules() -> tuple[dict[str, dict[str, Rule]], dict[str, dict[str, Rule]], dict[str, dict[str, str]]]:
    schema = load_schema()
    compiler = _Compiler(schema)
    defs = schema["$defs"]

    def rule(sub: Mapping[str, Any]) -> Rule:
        return compiler.predicate(sub), compiler.compile(sub)

    def schemas_for(base: str, kind: str) -> dict[str, Mapping[str, Any]]:
        common = {k: v for k, v in defs[base]["properties"].items() if k != "kind"}
        if base == "edge":
            # An edge's ends must name nodes; validate_records checks that they do, which makes the
            # slug pattern redundant here (and it was a third of the time spent validating edges).
            for end in EDGE_CORE_FIELDS[:2]:
                common[end] = {"type": "string"}
        return {**common, **defs.get(kind, {}).get("properties", {})}

    def rules_for(base: str, kinds: tuple[str, ...]) -> dict[str, dict[str, Rule]]:
        return {kind: {k: rule(v) for k, v in schemas_for(base, kind).items()} for kind in kinds}

    def validators_for(base: str, kinds: tuple[str, ...], core: tuple[str, ...]) -> dict[str, Callable[[dict], bool]]:
        return {kind: _record_validator(compiler, schemas_for(base, kind), core, _CROSS_FIELD.get(kind))
                for kind in kinds}

    types: dict[str, dict[str, str]] = {}
    for kind in NODE_KINDS + EDGE_KINDS:
        base = "node" if kind in NODE_KINDS else "edge"
        props = {**defs[base]["properties"], **defs.get(kind, {}).get("properties", {})}
        types[kind] = {name: compiler.resolve(sub).get("type", "string") if "enum" not in compiler.resolve(sub)
                       else "string" for name, sub in props.items()}
    return (rules_for("node", NODE_KINDS), rules_for("edge", EDGE_KINDS), types,
            validators_for("node", NODE_KINDS, NODE_CORE_FIELDS), validators_for("edge", EDGE_KINDS, EDGE_CORE_FIELDS))


_CROSS_FIELD = {
    "enters": ("record.get('records_with_issues') is None or record.get('records') is None "
               "or record['records_with_issues'] <= record['records']"),
}
"""Rules across the fields of one record, as expressions over ``record`` (see ``_findings``)."""


def _record_validator(compiler: _Compiler, properties: Mapping[str, Mapping[str, Any]],
                      core: tuple[str, ...], cross_field: str | None = None) -> Callable[[dict], bool]:
    """One compiled function that says whether a whole record of a kind is valid.

    Every attribute's test inlined in one chain, so a valid record costs one call; a record it
    refuses goes to the slower checks that say why.
    """
    namespace: dict[str, Any] = {"_unknown_wrong": _unknown_wrong, "_bad_inside": _bad_inside,
                                 "_bad_text": CONTROL_CHARACTERS.search}
    lines = ["def valid(record):",
             "    if " + " or ".join(f"{field!r} not in record" for field in core) + ":",
             "        return False",
             "    for field, value in record.items():",
             "        if type(value) is str:",
             "            if _bad_text(value) is not None:",
             "                return False",
             "        elif (type(value) is list or type(value) is dict) and _bad_inside(value):",
             "            return False"]
    for position, (name, schema) in enumerate(properties.items()):
        lines.append(f"        {'if' if position == 0 else 'elif'} field == {name!r}:")
        lines.append(f"            if not ({compiler._expression(schema, 'value', namespace)}):")
        lines.append("                return False")
    lines.append("        elif field != 'kind' and _unknown_wrong(field, value):")
    lines.append("            return False")
    lines.append(f"    return {cross_field or 'True'}")
    exec("\n".join(lines), namespace)  # noqa: S102 (code made from our own schema)
    return namespace["valid"]


_NODE_RULES, _EDGE_RULES, _ATTRIBUTE_TYPES, _NODE_VALID, _EDGE_VALID = _compile_rules()


def attribute_type(kind: str, attribute: str) -> str | None:
    """The JSON type (``"integer"``, ``"boolean"``, ...) the schema gives an attribute of a kind.

    ``None`` for attributes the schema does not name (they are kept as they are).

    >>> attribute_type("dataset", "record_count"), attribute_type("dataset", "colour")
    ('integer', None)
    """
    return _ATTRIBUTE_TYPES.get(kind, {}).get(attribute)


def attribute_schemas(kind: str) -> dict[str, dict[str, Any]]:
    """The attributes the schema names for a node or edge kind (beyond the core and managed
    fields), each with its JSON Schema resolved: for building forms.

    >>> list(attribute_schemas("feeds")), attribute_schemas("feeds")["role"]["enum"]
    (['role'], ['input', 'training'])
    """
    schema = load_schema()
    compiler, defs = _Compiler(schema), schema["$defs"]
    base = "node" if kind in NODE_KINDS else "edge"
    # origin is kept by the importers and the web app's forms (lineage.origin), never typed in.
    skip = {*NODE_CORE_FIELDS, *EDGE_CORE_FIELDS, "created", "updated", "version", "origin"}
    props = {**defs[base]["properties"], **defs.get(kind, {}).get("properties", {})}
    return {name: dict(compiler.resolve(sub)) for name, sub in props.items() if name not in skip}


def attributes_of_type(type_name: str) -> frozenset[str]:
    """Names of the attributes the schema gives ``type_name`` in any node or edge kind.

    >>> sorted(attributes_of_type("array"))
    ['all_fields_from', 'fields', 'issues', 'risks', 'tags']
    """
    return frozenset(name for types in _ATTRIBUTE_TYPES.values() for name, t in types.items() if t == type_name)


Finding = tuple[str | None, str]
"""A problem with a record before it is located: (field or None, what was expected)."""
_NONE: tuple[Finding, ...] = ()


def _findings(record: Any, kind_field_rules: dict[str, dict[str, Rule]], core: tuple[str, ...],
              noun: str) -> tuple[Finding, ...] | list[Finding]:
    """What is wrong with one record: nothing (an empty tuple) in the common case.

    The hot path of every load, written for speed: no allocation for a valid record, one
    dictionary look-up and one compiled test per attribute; messages only when something fails.
    """
    if type(record) is not dict:
        return [(None, f"expected a {noun} object, got {_shown(record)}")]
    kind = record.get("kind")
    rules = kind_field_rules.get(kind) if type(kind) is str else None
    if rules is None or not (core[0] in record and core[1] in record and core[2] in record):
        missing = [(field, "is required") for field in core if field not in record]
        return missing or [("kind", f"expected one of: {', '.join(kind_field_rules)}; got {_shown(kind)}")]
    found = _NONE
    for field, value in record.items():
        rule = rules.get(field)
        if rule is None:
            if field != "kind":
                found = [*found, *_unknown_findings(field, value)]
        elif not rule[0](value):
            found = [*found, *((field + sub, message) for sub, message in rule[1](value))]
        if (type(value) is str and CONTROL_CHARACTERS.search(value)) or \
                ((type(value) is list or type(value) is dict) and _bad_inside(value)):
            found = [*found, *_text_findings(value, field if len(field) <= MAX_ATTRIBUTE_NAME else field[:40] + "...")]
    return found


def _valid(record: Any, validators: dict[str, Callable[[dict], bool]]) -> bool:
    if type(record) is not dict:
        return False
    kind = record.get("kind")
    valid = validators.get(kind) if type(kind) is str else None
    return valid is not None and valid(record)


def node_findings(record: Any) -> tuple[Finding, ...] | list[Finding]:
    """What is wrong with one node record's own fields (not its references); empty when nothing."""
    if _valid(record, _NODE_VALID):
        return _repeated_field_names(record["fields"]) if "fields" in record else _NONE
    return _findings(record, _NODE_RULES, NODE_CORE_FIELDS, "node")


def _repeated_field_names(fields: list[dict[str, Any]]) -> tuple[Finding, ...] | list[Finding]:
    """A node's fields are found by name (field links, pages), so each name may appear once: the
    one rule on ``fields`` the schema cannot say."""
    first: dict[str, int] = {}
    found: list[Finding] = []
    for i, item in enumerate(fields):
        seen = first.setdefault(item["name"], i)
        if seen != i:
            found.append((f"fields[{i}].name", f"expected a name used once; {_shown(item['name'])} "
                                               f"is also the name of fields[{seen}]"))
    return found or _NONE


def edge_findings(record: Any) -> tuple[Finding, ...] | list[Finding]:
    """What is wrong with one edge record's own fields (not whether its ends exist); empty when nothing."""
    if _valid(record, _EDGE_VALID):
        return _NONE
    found = _findings(record, _EDGE_RULES, EDGE_CORE_FIELDS, "edge")
    if not found and record["kind"] == "enters":  # the one rule across fields (_CROSS_FIELD)
        return [("records_with_issues", f"expected at most records ({record['records']}), "
                                        f"got {record['records_with_issues']}")]
    return found


def located(findings: Iterable[Finding], where: str) -> list[Problem]:
    """Findings as problems at a place."""
    return [Problem(where, message, field) for field, message in findings]


def validate_node(record: Any, where: str) -> list[Problem]:
    """Problems with one node record (its own fields only, not its references)."""
    return located(node_findings(record), where)


def validate_edge(record: Any, where: str) -> list[Problem]:
    """Problems with one edge record (its own fields only, not whether its ends exist)."""
    return located(edge_findings(record), where)


ALLOWED_EDGES: frozenset[tuple[str, str, str]] = frozenset(
    (edge_kind, source, target) for edge_kind, (sources, targets) in EDGE_RULES.items()
    for source in sources for target in targets)
"""Every allowed (edge kind, source kind, target kind)."""


def allowed_edge(edge_kind: str, source_kind: str, target_kind: str) -> bool:
    """Whether an edge of ``edge_kind`` may join a ``source_kind`` node to a ``target_kind`` node."""
    sources, targets = EDGE_RULES[edge_kind]
    return source_kind in sources and target_kind in targets


def edge_rule_problem(source_kind: str, target_kind: str, edge_kind: str) -> str | None:
    """Why an edge kind may not join two node kinds, naming what it may join; None when it may."""
    if allowed_edge(edge_kind, source_kind, target_kind):
        return None
    sources, targets = EDGE_RULES[edge_kind]
    return (f"an '{edge_kind}' edge cannot join {source_kind} -> {target_kind}; "
            f"it joins {' or '.join(sorted(sources))} -> {' or '.join(sorted(targets))}")


# ---------------------------------------------------------------------------------------------
# Data quality


def quality_score(assessment: Any) -> float | None:
    """The 0..1 score of one quality dimension, whether given bare or as an assessment object."""
    if isinstance(assessment, dict):
        assessment = assessment.get("score")
    if isinstance(assessment, (int, float)) and not isinstance(assessment, bool):
        return float(assessment)
    return None


def rag_for_score(score: float) -> str:
    """RAG rating of a score: green >= 0.9, amber >= 0.7, red below.

    >>> rag_for_score(0.71), rag_for_score(0.55), rag_for_score(0.95)
    ('amber', 'red', 'green')
    """
    return next(rag for floor, rag in RAG_THRESHOLDS if score >= floor)


def quality_rag(assessment: Any) -> str | None:
    """RAG of one dimension: the rating given, else the rating of its score."""
    if isinstance(assessment, dict) and assessment.get("rag"):
        return assessment["rag"]
    score = quality_score(assessment)
    return None if score is None else rag_for_score(score)


RAG_NOMINAL: dict[str, float] = {"red": 0.0, "amber": 0.7, "green": 0.9}
"""Where a dimension rated only by RAG ranks among scored ones: the floor of its band."""


def weakest_dimension(quality: Mapping[str, Any] | None) -> tuple[str, float | None, str] | None:
    """The weakest assessed dimension of a dataset's quality: (dimension, score, rag).

    Dimensions are ranked by score; a dimension rated only by RAG ranks at the floor of its band.
    Ties go to the first dimension in framework order. None when nothing is assessed.

    >>> weakest_dimension({"completeness": 0.94, "timeliness": 0.71, "validity": 0.88})
    ('timeliness', 0.71, 'amber')
    """
    if not quality:
        return None
    best_rank, best = math.inf, None
    for dimension in QUALITY_DIMENSIONS:  # framework order: a later tie does not win
        assessment = quality.get(dimension)
        if assessment is None:
            continue
        if type(assessment) is float or type(assessment) is int:  # the common case, kept quick
            rank, score, rag = assessment, float(assessment), None
        else:
            score, rag = quality_score(assessment), quality_rag(assessment)
            if rag is None:
                continue
            rank = score if score is not None else RAG_NOMINAL[rag]
        if rank < best_rank:
            best_rank, best = rank, (dimension, score, rag)
    if best is None:
        return None
    dimension, score, rag = best
    return dimension, score, rag or rag_for_score(score)


FREQUENCIES: tuple[str, ...] = ("continuous", "daily", "weekly", "monthly", "quarterly", "annual", "one-off", "ad hoc")
"""How often a decision is made, normalised for filtering (the free text is kept for display)."""
_FREQUENCY_WORDS: tuple[tuple[str, str], ...] = (
    ("continuous", "continuous"), ("real time", "continuous"), ("real-time", "continuous"), ("hourly", "continuous"),
    ("daily", "daily"), ("every day", "daily"), ("weekly", "weekly"), ("fortnightly", "weekly"),
    ("monthly", "monthly"), ("quarterly", "quarterly"), ("annual", "annual"), ("yearly", "annual"),
    ("one-off", "one-off"), ("one off", "one-off"), ("once", "one-off"), ("ad hoc", "ad hoc"), ("ad-hoc", "ad hoc"),
    ("as needed", "ad hoc"), ("on demand", "ad hoc"))


def frequency_band(text: Any) -> str | None:
    """The :data:`FREQUENCIES` entry a decision's free-text frequency means: the word that comes
    first in it ("annual, with monthly top-ups" is annual); None when none is there.

    >>> frequency_band("daily (November to March)"), frequency_band("annual, with monthly top-ups")
    ('daily', 'annual')
    >>> frequency_band("ad hoc (one-off revision)"), frequency_band("when it rains") is None
    ('ad hoc', True)
    """
    if not isinstance(text, str):
        return None
    lower = text.lower()
    found = [(lower.find(word), band) for word, band in _FREQUENCY_WORDS if word in lower]
    return min(found)[1] if found else None
