"""Source registry: config name -> class. Each class carries its `Settings` model."""

from listener.sources.appstore import AppStoreSource
from listener.sources.bluesky import BlueskySource
from listener.sources.hackernews import HackerNewsSource
from listener.sources.mastodon import MastodonSource
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
    "bluesky": BlueskySource,
    "mastodon": MastodonSource,
    "hackernews": HackerNewsSource,
}
