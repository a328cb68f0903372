# The part of graphviz (0.20, 0.21) that chainrule's code and its users' scripts use.
# graphviz annotates its code but ships no py.typed marker, so mypy ignores those
# annotations; these are copied from them (pyproject.toml's [tool.mypy] mypy_path).
import os
import subprocess
from collections.abc import Iterable, Iterator
from typing import Any, overload

_Path = os.PathLike[str] | str

class Digraph:
    name: str | None
    comment: str | None
    format: str
    engine: str
    encoding: str
    body: list[str]
    graph_attr: dict[str, str]
    node_attr: dict[str, str]
    edge_attr: dict[str, str]
    strict: bool
    directed: bool
    def __init__(self, name: str | None = None, comment: str | None = None,
                 filename: _Path | None = None, directory: _Path | None = None,
                 format: str | None = None, engine: str | None = None, encoding: str | None = ...,
                 graph_attr: dict[str, str] | None = None, node_attr: dict[str, str] | None = None,
                 edge_attr: dict[str, str] | None = None, body: Iterable[str] | None = None,
                 strict: bool = False, *, renderer: str | None = None,
                 formatter: str | None = None) -> None: ...
    @property
    def source(self) -> str: ...
    def __iter__(self) -> Iterator[str]: ...
    def node(self, name: str, label: str | None = None, _attributes: Any = None, **attrs: str) -> None: ...
    def edge(self, tail_name: str, head_name: str, label: str | None = None, _attributes: Any = None,
             **attrs: str) -> None: ...
    def attr(self, kw: str | None = None, _attributes: Any = None, **attrs: str) -> None: ...
    def save(self, filename: _Path | None = None, directory: _Path | None = None, *,
             skip_existing: bool | None = False) -> str: ...
    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ..., formatter: str | None = ...,
             neato_no_op: bool | int | None = ..., quiet: bool = ..., *, engine: str | None = ...,
             encoding: None = ...) -> bytes: ...
    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ..., formatter: str | None = ...,
             neato_no_op: bool | int | None = ..., quiet: bool = ..., *, engine: str | None = ...,
             encoding: str) -> str: ...
    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ..., formatter: str | None = ...,
             neato_no_op: bool | int | None = ..., quiet: bool = ..., *, engine: str | None = ...,
             encoding: str | None) -> bytes | str: ...
    def render(self, filename: _Path | None = None, directory: _Path | None = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, renderer: str | None = None,
               formatter: str | None = None, neato_no_op: bool | int | None = None,
               quiet: bool = False, quiet_view: bool = False, *, outfile: _Path | None = None,
               engine: str | None = None, raise_if_result_exists: bool = False,
               overwrite_source: bool = False) -> str: ...
    def view(self, filename: _Path | None = None, directory: _Path | None = None,
             cleanup: bool = False, quiet: bool = False, quiet_view: bool = False) -> str: ...

def view(filepath: _Path, quiet: bool = False) -> None: ...

class ExecutableNotFound(RuntimeError): ...
class CalledProcessError(subprocess.CalledProcessError): ...
