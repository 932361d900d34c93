"""`linreg` and `python -m linreg`: the command's first lines.

Its signal handlers come before anything else is imported: a Ctrl-C while linreg starts (its
imports take a second or more) ends it with one line, never a KeyboardInterrupt traceback.
linreg.cli.main puts its own in their place as soon as it runs.
"""

import os
import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _leave(signum: int, frame: object) -> None:
    """Nothing has started: nothing to keep, nothing to wait for."""
    line = f"linreg: interrupted by {signal.Signals(signum).name}: stopped at once; nothing " \
           f"was recorded\n"
    try:
        os.write(2, line.encode())
    finally:
        os._exit(128 + signum)


def main() -> None:
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` or `&` ignore some
            signal.signal(signum, _leave)
    from linreg.cli import main as run_command

    run_command()


if __name__ == "__main__":
    main()
