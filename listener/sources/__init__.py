"""Source registry: config name -> class. Each class carries its `Settings` model, which the
config reads; a source is built as `cls(SourceContext(settings, ...))` (listener.sources.contract).

Importing the registry imports no platform SDK: tweepy, praw, Mastodon.py and feedparser are
imported by their source when it is built or reads a feed, so a config without those sources
never loads them.
"""

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
