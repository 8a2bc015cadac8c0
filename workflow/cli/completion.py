"""`pal completion SHELL`: the script that lets bash, zsh or fish complete pal's commands, options
and choices (click's shell completion; the shell runs pal itself to complete each word)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS), metavar="SHELL")
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    bash: `eval "$(pal completion bash)"` in ~/.bashrc; zsh: `eval "$(pal completion zsh)"` in
    ~/.zshrc; fish: `pal completion fish > ~/.config/fish/completions/pal.fish`.
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root()
    found = get_completion_class(shell)
    assert found is not None  # every shell in SHELLS is one click completes
    script = found(root.command, {}, root.info_name or "pal", "_PAL_COMPLETE").source()
    click.echo(script, nl=False)
