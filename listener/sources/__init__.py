"""Source registry: config name -> class. Each class carries its `Settings` model."""

from listener.sources.appstore import AppStoreSource
from listener.sources.reddit import RedditSource
from listener.sources.replay import ReplaySource
from listener.sources.rss import RssSource
from listener.sources.trustpilot import TrustpilotSource
from listener.sources.twitter import TwitterSource

SOURCES = {
    "replay": ReplaySource,
    "twitter": TwitterSource,
    "reddit": RedditSource,
    "appstore": AppStoreSource,
    "trustpilot": TrustpilotSource,
    "rss": RssSource,
}
