"""Command line entry point (placeholder until the server lands)."""


def main() -> int:
    return 0
