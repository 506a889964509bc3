"""`python -m terrace` runs the CLI."""

from terrace.cli import main

main()
