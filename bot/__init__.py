"""SilverGuard (银龄反诈助手): offline anti-fraud education assistant for Chinese-speaking seniors.

Importing this package does no work: models, settings and stores load only when asked for.
"""

__version__ = "0.1.0"
