"""Critic training: fine-tune a Hugging Face encoder on the final annotation labels to predict
plausibility and typicality, calibrate it, pick a threshold for a target precision, and save a
folder the filter stage's critic step loads unchanged (docs/critic.md)."""

TASKS = ("plausibility", "typicality")
