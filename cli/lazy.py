"""Commands imported only when they run: ``brain --help`` lists every command with its
one-line help without importing any of them, and ``brain status`` imports what status needs
(not FastAPI, SQLAlchemy or the workflows).

Click's recipe ("Lazily Loading Subcommands"), on Typer's group class (Typer vendors its own
Click): the group's ``commands`` is a mapping that knows every name up front and imports a
command's module the first time that command is looked up.
"""

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class Lazy:
    """A command by where it lives: ``module:attribute``, a function or a ``typer.Typer``."""

    target: str
    help: str


def load(name: str, lazy: Lazy) -> Any:
    """The Click command for ``lazy``, named ``name``; its one-line help is ``lazy.help``."""
    module, attribute = lazy.target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command = typer.main.get_command(found)
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name=name)(found)
        command = typer.main.get_command(single)
    command.name = name
    command.short_help = lazy.help
    return command


class _Commands(MutableMapping[str, Any]):
    """Every command's name at once; a command itself only when it is looked up."""

    def __init__(self, eager: Mapping[str, Any], lazy: Mapping[str, Lazy]) -> None:
        self._loaded = dict(eager)
        self._lazy = dict(lazy)

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = load(name, self._lazy[name])
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._loaded, *self._lazy]))

    def __len__(self) -> int:
        return len(set(self._loaded) | set(self._lazy))

    def help(self, name: str) -> str:
        if name in self._lazy:
            return self._lazy[name].help
        return str(self._loaded[name].get_short_help_str())


class LazyGroup(TyperGroup):
    """A Typer group whose subclass names its commands in ``lazy`` (name -> ``Lazy``)."""

    lazy: Mapping[str, Lazy] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _Commands(self.commands, self.lazy)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Click asks each command for its short help, which would import them all.
        assert isinstance(self.commands, _Commands)
        rows = [(name, self.commands.help(name)) for name in self.commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
