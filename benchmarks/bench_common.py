"""Helpers shared by the benchmark scripts (run them as scripts: this folder is on sys.path)."""
import platform


def cpu_name() -> str:
    """The CPU's model name, for the header of a results table."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
