"""Source registry: config name -> class. Each class carries its `Settings` model."""

from listener.sources.replay import ReplaySource

SOURCES = {
    "replay": ReplaySource,
}
