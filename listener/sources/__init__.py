"""Source registry: config name -> class. Each class carries its `Settings` model."""

from listener.sources.appstore import AppStoreSource
from listener.sources.replay import ReplaySource

SOURCES = {
    "replay": ReplaySource,
    "appstore": AppStoreSource,
}
