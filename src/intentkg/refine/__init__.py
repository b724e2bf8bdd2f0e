"""GRPO refinement of the generator (``intentkg refine``): reward, guard, trainer and stage. See docs/refine.md."""
