"""backport: carry upstream Linux patch series onto older, diverged kernel trees."""

__version__ = "0.1.0"
