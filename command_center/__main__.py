"""`python -m command_center` is the same as the `command-center` script."""

from command_center.cli import main

main()
