"""Progress bars of long work, on a stream (tqdm): the one place that draws them.

Library functions take ``progress``: the stream to draw on (the CLI passes ``sys.stderr`` unless
``--quiet``), or None, their default: silent. A bar shows its label, the count done of the total, the
rate and the time left.
"""

from __future__ import annotations

from tqdm import tqdm


def progress_bar(label: str, total: int, stream, unit: str = "it") -> tqdm:
    """A bar ``label`` over ``total`` ``unit`` on ``stream`` (None: a silent one); use as a context manager.

    ``bar.update(k)`` after k more are done; ``bar.set_postfix_str(text)`` for what is running now.
    """
    return tqdm(total=total, desc=label, unit=unit, file=stream, disable=stream is None, leave=True,
                mininterval=0.25, ncols=100,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                           "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")
