"""Built-in report sections; every module here registers itself on import (one module per stage)."""
