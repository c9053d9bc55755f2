"""Where a value formatted into SQL comes from, followed through the code (AST): a
value is *code-derived* when it is built only from literals, names the code defines
(module constants, classes, functions, enum members), the catalog of the warehouse
(identifiers DuckDB lists in `duckdb_tables()` / `duckdb_columns()`), and operations on
those; a function's parameter is code-derived when every call of the function passes a
code-derived argument. Anything else (a parameter no code calls, a file's or a query's
content, the environment) is not, and a SQL f-string interpolating it must be reviewed."""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path

SQL = re.compile(r"\b(SELECT|INSERT|DELETE|CREATE|COMMENT ON|ALTER|DROP|FROM|WHERE)\b")
# Builtins whose result from code-derived arguments is code-derived too.
PURE = {"sorted", "list", "tuple", "set", "dict", "zip", "enumerate",
        "range", "str", "min", "max", "sum", "any", "all", "reversed", "frozenset", "repr",
        "type", "next", "iter"}
# Builtins whose result is a number or a boolean, whatever their argument.
NUMERIC = {"int", "float", "len", "bool", "abs", "round"}
# Where data comes in from outside the code.
INPUTS = {"os.environ", "os.getenv", "os.environ.get", "sys.argv", "sys.stdin"}
# Methods that return what a query, a file or a stream holds: data, not code.
READS = {"execute", "sql", "query", "fetchall", "fetchone", "fetchmany", "fetchdf", "pl", "df",
         "arrow", "read_text", "read_bytes", "read", "readline", "readlines", "read_csv",
         "read_parquet", "read_json", "read_excel", "load", "loads", "getenv"}
CATALOG = re.compile(r"\bduckdb_(tables|columns)\(\)")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


@dataclass
class Module:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def scope_of(self, node: ast.AST) -> ast.AST:
        """The function (or the module) whose local `node` is."""
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, _SCOPES):
                return node
        return self.tree

    def bindings(self, scope: ast.AST, name: str) -> list[ast.expr]:
        """The expressions `name` is bound to in `scope` (a loop variable: its iterable,
        whose elements are code-derived when it is)."""
        found: list[ast.expr] = []
        for node in ast.walk(scope):
            if node is not scope and self.scope_of(node) is not scope:
                continue
            if isinstance(node, ast.Assign) and any(_binds(t, name) for t in node.targets):
                found += [_part(t, node.value, name) for t in node.targets if _binds(t, name)]
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and \
                    _binds(node.target, name) and node.value is not None:
                found.append(node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor)) and _binds(node.target, name):
                found.append(node.iter)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None and \
                    _binds(node.optional_vars, name):
                found.append(node.context_expr)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                    node.name == name and node is not scope:
                found.append(node)  # type: ignore[arg-type]
            elif isinstance(node, ast.Import):
                found += [ast.Import(names=[a]) for a in node.names  # type: ignore[misc]
                          if (a.asname or a.name).split(".")[0] == name]
            elif isinstance(node, ast.ImportFrom):
                found += [ast.ImportFrom(module=node.module, names=[a], level=node.level)
                          for a in node.names if (a.asname or a.name) == name]
            elif isinstance(node, ast.ExceptHandler) and node.name == name:
                found.append(ast.Name(id="<exception>"))
        return found


def _binds(target: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def _part(target: ast.AST, value: ast.expr, name: str) -> ast.expr:
    """What `name` takes of `value` assigned to `target`: in `a, b = x, y` only `x` for a
    (through either branch of a conditional), else the whole value."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and \
            len(target.elts) == len(value.elts):
        return next(_part(t, v, name) for t, v in zip(target.elts, value.elts, strict=True)
                    if _binds(t, name))
    if isinstance(target, ast.Tuple) and isinstance(value, ast.IfExp):
        return ast.IfExp(test=value.test, body=_part(target, value.body, name),
                         orelse=_part(target, value.orelse, name))
    return value


def _parameters(function: ast.AST) -> list[str]:
    """Its parameters by name; a `*args` parameter last."""
    args = function.args  # type: ignore[attr-defined]
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]] + (
        [args.vararg.arg] if args.vararg else [])


def _fields(node: ast.ClassDef) -> dict[str, ast.expr | None]:
    """A dataclass's fields in order, with their defaults."""
    return {n.target.id: n.value for n in node.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}


class Package:
    """The modules of `packages` under `root`, and who calls which function."""

    def __init__(self, root: Path, packages: tuple[str, ...],
                 reviewed: dict[tuple[str, str], str] | None = None) -> None:
        self.root = root
        self.reviewed = reviewed or {}  # (file, expression) -> where it comes from
        self.used: set[tuple[str, str]] = set()
        self.modules = {p: Module(p, ast.parse(p.read_text(encoding="utf-8")))
                        for package in packages for p in sorted((root / package).rglob("*.py"))}
        self.calls: dict[str, list[tuple[Module, ast.Call]]] = {}
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else \
                        func.attr if isinstance(func, ast.Attribute) else None
                    if name:
                        self.calls.setdefault(name, []).append((module, node))
        self._seen: set[tuple[int, str]] = set()
        self._known: dict[int, bool] = {}

    def sql_interpolations(self) -> list[tuple[Module, ast.AST, ast.expr]]:
        """(module, enclosing function, expression) of every interpolation in an f-string
        whose text looks like SQL."""
        found = []
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.JoinedStr):
                    continue
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if SQL.search(text):
                    found += [(module, module.scope_of(node), v.value) for v in node.values
                              if isinstance(v, ast.FormattedValue)]
        return found

    def derived(self, module: Module, expr: ast.AST) -> bool:
        """True when `expr` (in `module`) is code-derived, or reviewed."""
        if expr not in module.parents:  # made by `bindings`, not a node of the source
            return self._derived(module, expr)
        if id(expr) not in self._known:  # a loop's assumption (True) is kept: coinductive
            self._known[id(expr)] = self._derived(module, expr)
        return self._known[id(expr)]

    def _derived(self, module: Module, expr: ast.AST) -> bool:
        if not isinstance(expr, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            key = (module.path.relative_to(self.root).as_posix(), ast.unparse(expr))
            if key in self.reviewed:
                self.used.add(key)
                return True
        match expr:
            case ast.Constant():
                return True
            case ast.JoinedStr(values=values) | ast.Tuple(elts=values) | ast.List(elts=values) \
                    | ast.Set(elts=values) | ast.BoolOp(values=values):
                return all(self.derived(module, v) for v in values)
            case ast.Attribute(value=value) if ast.unparse(expr) in INPUTS:
                return False
            case ast.Attribute(value=value, attr=attr) if not self.derived(module, value):
                return self._field(attr)
            case ast.FormattedValue(value=value) | ast.Starred(value=value) \
                    | ast.UnaryOp(operand=value) | ast.Attribute(value=value) \
                    | ast.Subscript(value=value):
                return self.derived(module, value)
            case ast.Dict(keys=keys, values=values):
                return all(self.derived(module, v) for v in [*keys, *values] if v is not None)
            case ast.BinOp(left=left, right=right):
                return self.derived(module, left) and self.derived(module, right)
            case ast.IfExp(body=body, orelse=orelse):
                return self.derived(module, body) and self.derived(module, orelse)
            case ast.Compare():
                return True  # a boolean
            case ast.ListComp() | ast.SetComp() | ast.GeneratorExp():
                return self.derived(module, expr.elt) and all(
                    self.derived(module, g.iter) for g in expr.generators)
            case ast.DictComp():
                return self.derived(module, expr.key) and self.derived(module, expr.value) \
                    and all(self.derived(module, g.iter) for g in expr.generators)
            case ast.Call(func=func, args=args, keywords=keywords):
                if _catalog_query(expr) or (isinstance(func, ast.Name) and func.id in NUMERIC \
                        and not module.bindings(module.tree, func.id)):
                    return True
                if isinstance(func, ast.Attribute) and func.attr in READS:
                    return False
                arguments = all(self.derived(module, a) for a in args) and all(
                    self.derived(module, k.value) for k in keywords)
                if isinstance(func, ast.Name) and (
                        found := self._definition(module, func.id, module.scope_of(expr))):
                    # Its parameters are followed to every call, this one among them.
                    return self._returns_derived(*found)
                callee = func.id in PURE if isinstance(func, ast.Name) and \
                    not module.bindings(module.tree, func.id) else self.derived(module, func)
                return callee and arguments
            case ast.Name(id=name):
                return self._name(module, expr, name)
            case ast.Import() | ast.ImportFrom():
                return self._imported(expr)
            case ast.FunctionDef() | ast.AsyncFunctionDef() | ast.ClassDef() | ast.Lambda():
                return True  # code the module defines
        return False

    def _name(self, module: Module, at: ast.AST, name: str) -> bool:
        node = at
        while node in module.parents:  # comprehension variables, then scopes outward
            node = module.parents[node]
            if isinstance(node, _COMPREHENSIONS):
                for generator in node.generators:
                    if _binds(generator.target, name):
                        return self.derived(module, generator.iter)
            if isinstance(node, _SCOPES):
                if name in _parameters(node):
                    return self._parameter(module, node, name)
                bound = module.bindings(node, name)
                if bound:
                    return self._all_derived(module, bound, name)
        bound = module.bindings(module.tree, name)
        if bound:
            return self._all_derived(module, bound, name)
        return name in PURE or name in {"__file__", "__name__"} or (
            hasattr(builtins, name) and isinstance(getattr(builtins, name), type)
            and issubclass(getattr(builtins, name), BaseException))

    def _all_derived(self, module: Module, bound: list[ast.expr], name: str) -> bool:
        key = (id(bound[0]), name)
        if key in self._seen:  # a loop (x = f(x)): the other bindings decide
            return True
        self._seen.add(key)
        try:
            return all(self.derived(module, b) for b in bound)
        finally:
            self._seen.discard(key)

    def _definition(self, module: Module, name: str, scope: ast.AST
                    ) -> tuple[Module, ast.FunctionDef] | None:
        """The project function `name` means in `scope` of `module` (defined or imported
        there or in a scope around it)."""
        while True:
            for bound in module.bindings(scope, name):
                if isinstance(bound, ast.FunctionDef):
                    return module, bound
                if isinstance(bound, ast.ImportFrom) and (target := self._source(bound)):
                    return self._definition(target, bound.names[0].name, target.tree)
            if scope is module.tree:
                return None
            scope = module.scope_of(scope)

    def _returns_derived(self, module: Module, function: ast.FunctionDef) -> bool:
        """A project function's result is code-derived when every value it returns is."""
        key = (id(function), "<return>")
        if key in self._seen:
            return True
        self._seen.add(key)
        try:
            return all(self.derived(module, node.value) for node in ast.walk(function)
                       if isinstance(node, ast.Return) and node.value is not None
                       and module.scope_of(node) is function)
        finally:
            self._seen.discard(key)

    def _source(self, node: ast.ImportFrom) -> Module | None:
        source = self.root.joinpath(*(node.module or "").split("."))
        for path in (source.with_suffix(".py"), source / "__init__.py"):
            if path in self.modules:
                return self.modules[path]
        return None

    def _imported(self, node: ast.Import | ast.ImportFrom) -> bool:
        """Names imported from the project are followed to their definition; the
        standard library and other packages give callables and types, never data."""
        if isinstance(node, ast.Import):
            return True
        name = node.names[0].name
        if target := self._source(node):
            bound = target.bindings(target.tree, name)
            return self._all_derived(target, bound, name) if bound else \
                target.path.with_name(f"{name}.py").exists()
        return not (self.root / (node.module or "").split(".")[0]).exists()

    def _parameter(self, module: Module, function: ast.AST, name: str) -> bool:
        """Every call of the function passes a code-derived value (or leaves a code-derived
        default); a function no code calls gets its arguments from outside."""
        if isinstance(function, ast.Lambda):
            return False
        key = (id(function), name)
        if key in self._seen:
            return True
        self._seen.add(key)
        try:
            method = _parameters(function)[:1] in (["self"], ["cls"])
            calls = [(caller, call) for caller, call in self.calls.get(
                function.name, []) if self._may_call(caller, call, method)]  # type: ignore
            return bool(calls) and all(self._argument(module, function, name, caller, call)
                                       for caller, call in calls)
        finally:
            self._seen.discard(key)

    def _field(self, attr: str) -> bool:
        """A field of the project's dataclasses is code-derived when every construction
        of every dataclass having it passes a code-derived value (or its default)."""
        classes = [(module, node) for module in self.modules.values()
                   for node in ast.walk(module.tree) if isinstance(node, ast.ClassDef)
                   and any("dataclass" in ast.unparse(d) for d in node.decorator_list)
                   and attr in _fields(node)]
        key = (0, f"<field {attr}>")
        if not classes or key in self._seen:
            return bool(classes)
        self._seen.add(key)
        try:
            for module, node in classes:
                fields, default = _fields(node), _fields(node)[attr]
                for caller, call in self.calls.get(node.name, []):
                    given = [k.value for k in call.keywords if k.arg == attr]
                    index = list(fields).index(attr)
                    if index < len(call.args):
                        given.append(call.args[index])
                    if any(isinstance(a, ast.Starred) for a in call.args) or any(
                            k.arg is None for k in call.keywords):
                        return False
                    if not all(self.derived(caller, g) for g in given) or (not given and (
                            default is None or not self.derived(module, default))):
                        return False
            return True
        finally:
            self._seen.discard(key)

    def _may_call(self, caller: Module, call: ast.Call, method: bool) -> bool:
        """Whether `call` may be of the function of its name: a method by attribute, a
        function by name or through its module (not a library's method of that name)."""
        if isinstance(call.func, ast.Name):
            return not method
        receiver = call.func.value  # type: ignore[attr-defined]
        imported = isinstance(receiver, ast.Name) and any(
            isinstance(b, (ast.Import, ast.ImportFrom))
            for b in caller.bindings(caller.tree, receiver.id))
        return method != imported

    def _argument(self, module: Module, function: ast.AST, name: str, caller: Module,
                  call: ast.Call) -> bool:
        for keyword in call.keywords:
            if keyword.arg == name:
                return self.derived(caller, keyword.value)
            if keyword.arg is None:
                return False  # **kwargs: not followed
        parameters = _parameters(function)
        if isinstance(call.func, ast.Attribute) and parameters[:1] in (["self"], ["cls"]):
            parameters = parameters[1:]
        vararg = function.args.vararg  # type: ignore[attr-defined]
        if vararg is not None and vararg.arg == name:
            return all(self.derived(caller, a) for a in call.args[len(parameters):])
        index = parameters.index(name) if name in parameters else len(call.args)
        if any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            return False
        if index < len(call.args):
            return self.derived(caller, call.args[index])
        args = function.args  # type: ignore[attr-defined]
        defaults = dict(zip([a.arg for a in [*args.posonlyargs, *args.args]][::-1],
                            args.defaults[::-1], strict=False))
        defaults |= {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                     if d is not None}
        return name in defaults and self.derived(module, defaults[name])


def _catalog_query(call: ast.Call) -> bool:
    """`con.execute("… duckdb_tables() …").fetch…()`: identifiers of the warehouse's own
    catalog (made by the migrations and the model files)."""
    inner = call.func.value if isinstance(call.func, ast.Attribute) else None
    while isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
        if inner.func.attr == "execute":
            return bool(inner.args) and isinstance(inner.args[0], ast.Constant) and \
                bool(CATALOG.search(str(inner.args[0].value)))
        inner = inner.func.value
    return False
