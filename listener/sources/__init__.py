"""Source registry: config name -> class. Each class carries its `Settings` model."""

from listener.sources.appstore import AppStoreSource
from listener.sources.replay import ReplaySource
from listener.sources.rss import RssSource
from listener.sources.trustpilot import TrustpilotSource

SOURCES = {
    "replay": ReplaySource,
    "appstore": AppStoreSource,
    "trustpilot": TrustpilotSource,
    "rss": RssSource,
}
