"""Writes python_modules.txt: every module of the packages a tracelab
workspace installs, and the names each one offers, read from the real
packages in this interpreter's environment (a venv made from a generated
workspace's requirements.txt, all backends).

    python3 -m venv /tmp/v && /tmp/v/bin/pip install -r backend-flask/requirements.txt
    /tmp/v/bin/python src/rules/python_modules.py > src/rules/python_modules.txt
    /tmp/v/bin/python src/rules/python_modules.py --signatures > src/rules/python_signatures.txt

With --signatures it writes what each public callable of those modules
accepts instead (python_signatures.txt): one line per way code reaches it,

    opentelemetry.sdk.trace.TracerProvider TracerProvider.__init__ 1 self sampler= resource= ...
    aws_xray_sdk.core.xray_recorder.configure AWSXRayRecorder.configure 1 self sampling= ...
    opentelemetry.instrumentation.flask.FlaskInstrumentor().instrument_app FlaskInstrumentor.instrument_app 0 app ...

the path, the name CPython's TypeError gives it, how many leading
parameters Python passes itself (the instance or class a method is bound
to: CPython counts them in its words; `c` for a classmethod, bound to its
class however it is reached), and the parameters as a def writes
them without defaults: `name` required, `name=` with a default, `/` after
the positional-only ones, `*` or `*args`, then keyword-only ones,
`**kwargs`.

tests/integration/python_modules.rs regenerates both the same way and
compares, and calls every callable the way the doctor says it refuses, to
hold it to CPython's own TypeError.
"""

import ast
import enum
import importlib
import importlib.metadata
import inspect
import io
import sys
import types
import typing
import warnings

# The distributions whose imports the doctor judges, and for boto3 only
# its top level (its clients are made by name at run time).
DISTRIBUTIONS = [
    "flask",
    "flask-cors",
    "requests",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-exporter-otlp-proto-common",
    "opentelemetry-proto",
    "opentelemetry-instrumentation",
    "opentelemetry-instrumentation-flask",
    "opentelemetry-instrumentation-requests",
    "opentelemetry-instrumentation-wsgi",
    "opentelemetry-semantic-conventions",
    "opentelemetry-util-http",
    "aws-xray-sdk",
    "watchtower",
    "rollbar",
    "boto3",
]
TOP_LEVEL_ONLY = {"boto3"}


def modules_of(distribution):
    """Module names from the distribution's installed .py files, and each
    one's file."""
    found = {}
    for file in importlib.metadata.files(distribution) or []:
        path = str(file)
        if not path.endswith(".py") or ".dist-info" in path or path.startswith(".."):
            continue
        parts = path[: -len(".py")].split("/")
        if parts[-1] == "__init__":
            parts.pop()
        # Run as `python -m`, never imported: importing one runs a CLI.
        if parts and parts[-1] == "__main__":
            continue
        if not parts or not all(p.isidentifier() for p in parts):
            continue
        found[".".join(parts)] = str(file.locate())
    if distribution in TOP_LEVEL_ONLY:
        found = {m: f for m, f in found.items() if "." not in m}
    return found


def static_names(path):
    """Top-level bindings, for a module that cannot be imported here (an
    optional dependency, such as Django for aws_xray_sdk.ext.django)."""
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def names_of(module, path):
    """What `from module import NAME` finds; "*" when the module answers
    any name (a module-level __getattr__) or offers a star import."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stdout, sys.stdout = sys.stdout, io.StringIO()
            try:
                loaded = importlib.import_module(module)
            finally:
                sys.stdout = stdout
    except BaseException:  # noqa: BLE001 - any failure (even exit): read it instead
        names = static_names(path)
        return names | {"*"} if has_star(path) else names
    names = set(dir(loaded))
    if "__getattr__" in vars(loaded):
        names.add("*")
    return names


def has_star(path):
    with open(path, encoding="utf-8") as source:
        return "import *" in source.read()


def load_quietly(module):
    """The module, or None when importing it fails here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stdout, sys.stdout = sys.stdout, io.StringIO()
            try:
                return importlib.import_module(module)
            finally:
                sys.stdout = stdout
    except BaseException:  # noqa: BLE001 - as names_of
        return None


def canonical(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def instance_of(annotation, roots):
    """The class of ours an annotation asks an instance of (`SpanExporter`,
    `Resource | None`); None for anything else (`type[X]` asks a class)."""
    if inspect.isclass(annotation) and ours(annotation, roots):
        # A Protocol asks for a shape, not a class: anything may fit it.
        return None if getattr(annotation, "_is_protocol", False) else annotation
    members = [m for m in typing.get_args(annotation) if m is not type(None)]
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    if is_union and len(members) == 1:
        return instance_of(members[0], roots)
    return None


def parameters(signature, roots):
    """The parameters as a def writes them, without their defaults; one
    annotated with a class of ours has it after a colon."""
    tokens = []
    kinds = inspect.Parameter
    previous = None
    for parameter in signature.parameters.values():
        kind = parameter.kind
        if previous == kinds.POSITIONAL_ONLY and kind != kinds.POSITIONAL_ONLY:
            tokens.append("/")
        if kind == kinds.KEYWORD_ONLY and previous not in (kinds.KEYWORD_ONLY, kinds.VAR_POSITIONAL):
            tokens.append("*")
        if kind == kinds.VAR_POSITIONAL:
            tokens.append("*" + parameter.name)
        elif kind == kinds.VAR_KEYWORD:
            tokens.append("**" + parameter.name)
        else:
            has_default = parameter.default is not inspect.Parameter.empty
            wanted = instance_of(parameter.annotation, roots)
            annotation = f":{canonical(wanted)}" if wanted is not None else ""
            tokens.append(parameter.name + annotation + ("=" if has_default else ""))
        previous = kind
    if previous == kinds.POSITIONAL_ONLY:
        tokens.append("/")
    return tokens


def ours(value, roots):
    """Defined in one of the distributions' packages."""
    module = getattr(value, "__module__", None) or ""
    return module.split(".")[0] in roots


def plain_function(value):
    return inspect.isfunction(value) and not inspect.iscoroutinefunction(value)


def takes_self(signature):
    """Whether its first parameter can take the instance or class."""
    params = list(signature.parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return bool(params) and params[0].kind in positional


def takes_anything(function):
    try:
        kinds = {p.kind for p in inspect.signature(function).parameters.values()}
    except (TypeError, ValueError):
        return False
    return {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD} <= kinds


def class_entry(cls):
    """(name in CPython's TypeError, bound, signature) for calling the class; None
    when a call is not a plain binding to __init__ (an abstract class, an
    enum, a metaclass of its own, a class of C)."""
    if type(cls) not in (type, getattr(__import__("abc"), "ABCMeta")) or inspect.isabstract(cls):
        return None
    if issubclass(cls, (enum.Enum, BaseException)):
        return None
    custom_new = cls.__new__ is not object.__new__
    init = inspect.getattr_static(cls, "__init__")
    if custom_new and init is not object.__init__:
        # A __new__ of its own runs first, and may refuse anything (SDK
        # spans must come from a tracer): not judged.
        return None
    if init is object.__init__:
        # With a __new__ of its own that takes anything (the instrumentors'
        # singleton), object's __init__ takes any arguments too: an entry
        # that refuses nothing, which says `RequestsInstrumentor()` works.
        if not custom_new or not takes_anything(cls.__new__):
            return None
        kinds = inspect.Parameter
        anything = inspect.Signature(
            [kinds("args", kinds.VAR_POSITIONAL), kinds("kwargs", kinds.VAR_KEYWORD)]
        )
        return cls.__qualname__, 0, anything
    entry = function_entry(init)
    if entry is None or not takes_self(entry[1]):
        return None
    return entry[0], 1, entry[1]


def function_entry(value):
    """Only a def of Python whose signature is its own: a wrapper a decorator
    returns (functools.wraps, wrapt) may take other arguments than it says."""
    if not plain_function(value) or hasattr(value, "__wrapped__"):
        return None
    try:
        # Annotations as objects (a module may write them as strings).
        signature = inspect.signature(value, eval_str=True)
    except Exception:  # noqa: BLE001 - a name only a type checker knows
        signature = inspect.signature(value)
    return value.__qualname__, signature


def method_entries(cls, roots):
    """(method, name, bound, signature) for the public methods a class of
    ours defines or inherits from ours."""
    for klass in cls.__mro__:
        if not ours(klass, roots):
            continue
        for name, raw in vars(klass).items():
            if name.startswith("_"):
                continue
            if inspect.getattr_static(cls, name) is not raw:
                continue
            if isinstance(raw, staticmethod):
                entry = function_entry(raw.__func__)
                bound = 0
            elif isinstance(raw, classmethod):
                entry = function_entry(raw.__func__)
                bound = "c"
            else:
                entry = function_entry(raw)
                bound = 1
            if entry is None:
                continue
            qualname, signature = entry
            if bound and not takes_self(signature):
                continue
            yield name, qualname, bound, signature


def signature_lines(modules, roots):
    """Every way code reaches a public callable of ours through a public
    module: `module.name`, `module.instance.method`, `module.Class().method`."""
    lines = []
    class_values = {}
    for module_name in sorted(modules):
        if any(part.startswith("_") for part in module_name.split(".")):
            continue
        module = load_quietly(module_name)
        if module is None:
            continue
        for name, value in sorted(vars(module).items()):
            if name.startswith("_") or not ours(value, roots):
                continue
            path = f"{module_name}.{name}"
            if inspect.isclass(value):
                entry = class_entry(value)
                if entry is not None:
                    lines.append((path, *entry))
                    class_values[path] = value
                for method, *entry in method_entries(value, roots):
                    lines.append((f"{path}().{method}", *entry))
            elif inspect.isfunction(value):
                entry = function_entry(value)
                if entry is not None:
                    lines.append((path, entry[0], 0, entry[1]))
            elif not inspect.ismodule(value) and ours(type(value), roots):
                for method, *entry in method_entries(type(value), roots):
                    lines.append((f"{path}.{method}", *entry))
    # Each class, after its parameters, with the annotated classes it is
    # one of (`^opentelemetry.sdk.trace.export.SpanExporter`): the class
    # itself given where an instance of those is asked is a slip.
    wanted = {
        instance_of(p.annotation, roots)
        for *_, signature in lines
        for p in signature.parameters.values()
    } - {None}
    def is_a(path):
        cls = class_values.get(path)
        if cls is None:
            return []
        found = sorted(canonical(w) for w in wanted if issubclass(cls, w))
        return ["^" + ",".join(found)] if found else []

    # Sorted by path: the doctor finds a path by binary search.
    return [
        " ".join([path, qualname, str(bound), *parameters(signature, roots), *is_a(path)])
        for path, qualname, bound, signature in sorted(lines, key=lambda line: line[0])
    ]


def main():
    if sys.argv[1:] == ["--signatures"]:
        print("# Generated by src/rules/python_modules.py --signatures; do not edit.")
        modules = {}
        for distribution in DISTRIBUTIONS:
            modules.update(modules_of(distribution))
        roots = {m.split(".")[0] for m in modules}
        # What a path must start with to be here: read before any search.
        print(f"# roots: {' '.join(sorted(roots))}")
        for line in signature_lines(modules, roots):
            print(line)
        return
    print("# Generated by src/rules/python_modules.py; do not edit.")
    owners = {}
    for distribution in DISTRIBUTIONS:
        version = importlib.metadata.version(distribution)
        print(f"dist {distribution} {version}")
        for module, path in modules_of(distribution).items():
            owners[module] = (distribution, path)
    for module in sorted(owners):
        distribution, path = owners[module]
        # Dunder attributes every module has are noise; __version__ is not.
        names = sorted(
            n for n in names_of(module, path) if not n.startswith("__") or n == "__version__"
        )
        print(f"{module} {distribution} {' '.join(names)}".rstrip())


if __name__ == "__main__":
    main()
