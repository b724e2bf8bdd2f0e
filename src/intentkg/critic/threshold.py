"""Pick the operating threshold that reaches a target precision with the most recall.

Chosen on the dev split (never on test). When no threshold reaches the target, the one with the
highest precision is returned and ``target_met`` says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve


def threshold_for_precision(labels, probs, target: float) -> dict[str, Any]:
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probs, dtype=float)
    if y.sum() == 0 or len(y) == 0:
        return {"threshold": 0.5, "target_precision": target, "target_met": False,
                "dev_precision": None, "dev_recall": None, "note": "no positive examples in dev"}
    precision, recall, thresholds = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    ok = precision >= target
    if ok.any():
        # among thresholds meeting the target, the one keeping the most recall (lowest threshold)
        i = int(np.flatnonzero(ok)[np.argmax(recall[ok])])
        met = True
    else:
        i = int(np.argmax(precision))
        met = False
    return {"threshold": round(float(thresholds[i]), 4), "target_precision": target, "target_met": met,
            "dev_precision": round(float(precision[i]), 4), "dev_recall": round(float(recall[i]), 4)}
