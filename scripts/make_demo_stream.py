"""Generate ``demo_stream.jsonl``: a fictional social-media stream for the demo.

This stream was written for the project. It is NOT taken from any data set and
every person, handle, post, outlet and order number in it is made up. "Lumi
Toys" (@lumitoys, #lumitoys) is a fictional toy maker; its Halloween kids'
flashlight "Pumpkin Glow" is the product that goes wrong.

Regenerate (deterministic, standard library only, fixed seed)::

    python scripts/make_demo_stream.py

The file is written to ``listener/data/demo_stream.jsonl``, where the package
ships it (``--out`` to write elsewhere), and a summary plus sanity checks are
printed.

Each line is one JSON object with exactly these keys::

    source, external_id, created_at, author, author_followers, url, lang, text

Sources: twitter, reddit, appstore, trustpilot, bluesky, mastodon, hackernews.
``author_followers`` is 0 where the platform has no followers (App Store,
Trustpilot, Hacker News).

Timeline (all UTC)
------------------
2026-10-29 00:00  stream starts. Ordinary chatter about Lumi Toys, roughly 400
                  mentions a day: praise (the Pumpkin Glow itself is popular),
                  shipping/order questions, non-safety complaints, coupons,
                  retailers, Halloween costume photos, App Store and
                  Trustpilot reviews. Daily rhythm: quiet 02:00-07:00, busiest
                  afternoon and evening. About 5% are job ads ("Lumi Toys is
                  hiring ...") that the brand query excludes. A few noise posts
                  a day that must not read as a crisis ("this flashlight is
                  fire", "burned through 4 batteries", "hot deal"), never two
                  of those within the same two hours nor within 3 hours of the
                  crisis onset, and a couple of isolated unrelated negative
                  posts a day.
2026-10-30 09:40  crisis starts: a parent on Twitter (~1,200 followers) posts
                  that her Pumpkin Glow flashlight got so hot it burned her
                  8-year-old daughter's hand.
      10:00-11:40  slow: a "same thing happened to my son" reply, an
                  r/Parenting thread, a retweet.
      12:00-15:00  growing: 4-8 reports an hour across Twitter, Reddit,
                  Bluesky, Mastodon, Trustpilot and App Store reviews (melted
                  battery compartments, burning-plastic smell, blisters,
                  smoking flashlights), recall demands, a copy-paste PSA.
      15:20        a local news reporter asks @lumitoys for comment; a second
                  reporter asks parents to get in touch at 16:45.
      16:00-21:00  evening peak, 10-20 crisis posts an hour; RT-style quotes
                  of the first post, people asking Lumi Toys to recall it.
      21:00-24:00  tailing off but still well above zero. About 130 crisis
                  posts in all, each from a distinct author.
2026-10-31 00:00  stream ends.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261030
START = datetime(2026, 10, 29, tzinfo=UTC)
DAYS = 2
CRISIS_START = datetime(2026, 10, 30, 9, 40, 23, tzinfo=UTC)
OUT_PATH = Path(__file__).resolve().parent.parent / "listener" / "data" / "demo_stream.jsonl"

# Relative activity per UTC hour (quiet 02-07, busiest afternoon/evening).
HOUR_WEIGHTS = [
    5.0, 3.5, 1.4, 0.9, 0.7, 0.7, 0.9, 1.4, 2.4, 3.4, 4.0, 4.5,
    5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.0, 7.5, 7.0, 6.2, 5.6,
]
CHATTER_PER_DAY = 385       # ordinary brand chatter (Poisson per hour around this)
JOBS_PER_DAY = 22           # job ads, ~5% of all lines
SLANG_NOISE_TOTAL = 6       # "fire"/"burned through batteries"/"hot deal" posts over 2 days
UNRELATED_NEG_PER_DAY = 2   # isolated unrelated negative posts

# Crisis posts per UTC hour on 2026-10-30 after the scripted first two hours
# (a +-1 jitter is applied from the seeded RNG).
CRISIS_PER_HOUR = {12: 4, 13: 5, 14: 7, 15: 8, 16: 10, 17: 13, 18: 16, 19: 18,
                   20: 17, 21: 13, 22: 9, 23: 6}

BACKGROUND_SOURCES = {"twitter": 50, "bluesky": 13, "mastodon": 7, "reddit": 12,
                      "trustpilot": 8, "appstore": 8, "hackernews": 2}
CRISIS_SOURCES = {"twitter": 50, "reddit": 12, "bluesky": 14, "mastodon": 10,
                  "trustpilot": 8, "appstore": 6}
SOCIAL = ("twitter", "bluesky", "mastodon")
APPSTORE_URL = "https://apps.apple.com/us/app/lumi-toys/id1234567890?see-all=reviews"
MAX_LEN = {"twitter": 280, "bluesky": 300, "mastodon": 500}

# --------------------------------------------------------------------------
# Slot values
# --------------------------------------------------------------------------
SLOTS = {
    "girl": ["Maya", "Ava", "Zoe", "Mila", "Isla", "Priya", "Nora", "Lily", "Aria", "Hana",
             "Ruby", "Freya", "Esme"],
    "boy": ["Leo", "Noah", "Eli", "Theo", "Omar", "Jonah", "Mateo", "Finn", "Caleb", "Arlo",
            "Kai", "Rowan"],
    "name": ["Maya", "Leo", "Ava", "Noah", "Zoe", "Eli", "Mila", "Theo", "Isla", "Omar",
             "Priya", "Sam", "Nora", "Jonah", "Lily", "Mateo", "Aria", "Finn", "Hana",
             "Caleb", "Ruby", "Arlo", "Freya", "Kai", "Esme", "Rowan"],
    "age": [str(n) for n in range(3, 11)],
    "product": ["Starlight Projector", "Bubble Bot", "Dino Dig kit", "Sleepy Sloth plush",
                "Bunny Boo plushie", "Midnight Owl plush", "Rocket Racer", "Starlight Projector",
                "Bubble Bot", "Dino Dig kit"],
    "plush": ["Sleepy Sloth plush", "Bunny Boo plushie", "Midnight Owl plush", "Ghostie plush"],
    "city": ["Toronto", "Leeds", "Austin", "Denver", "Manchester", "Melbourne", "Columbus",
             "Portland", "Glasgow", "Dublin", "Phoenix", "Ottawa", "Bristol", "Tampa",
             "Sacramento", "Calgary", "Cardiff", "Raleigh"],
    "country": ["Canada", "the UK", "Ireland", "Australia", "New Zealand", "Mexico", "Germany"],
    "retailer": ["Target", "Walmart", "Argos", "Smyths", "Costco", "Kohl's", "Amazon",
                 "Indigo", "Tesco", "Big W", "Meijer"],
    "days": [str(n) for n in range(4, 22)],
    "price": ["$14.99", "$12", "$9.99", "$24.99", "£11", "$19.99"],
    "code": ["SPOOKY15", "LUMI20", "GLOWUP10", "BOO25", "TRICKORTREAT"],
    "costume": ["witch", "dinosaur", "astronaut", "skeleton", "ghost", "black cat", "pirate",
                "bat", "firefly", "vampire", "mummy", "scarecrow", "lighthouse keeper"],
    "wait": ["45 minutes", "an hour", "90 minutes", "2 hours", "40 min"],
    "n": ["2", "3", "4", "5", "6"],
    "wh_city": ["Reno, NV", "Columbus, OH", "Allentown, PA", "Milton Keynes", "Mississauga, ON",
                "Dallas, TX"],
    "emoji": ["🎃", "👻", "😍", "✨", "🙌", "💜", "😊", "🧡"],
}
# (noun, he, his, him): the grammar for "my {kid} ... {he} ... {his} palm"
KIDS = [("son", "he", "his", "him"), ("daughter", "she", "her", "her"),
        ("little boy", "he", "his", "him"), ("little girl", "she", "her", "her"),
        ("youngest", "she", "her", "her"), ("oldest", "he", "his", "him"),
        ("niece", "she", "her", "her"), ("nephew", "he", "his", "him")]


class Slots(dict):
    """format_map() helper: picks a value the first time a slot is used."""

    def __init__(self, rng: random.Random, **fixed: str):
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        if key.lower() in ("kid", "he", "his", "him"):
            kid, he, his, him = self.rng.choice(KIDS)
            self.update(kid=kid, he=he, his=his, him=him, He=he.capitalize(),
                        His=his.capitalize(), Kid=kid.capitalize())
            return self[key]
        if key == "order":
            value = f"#LT{self.rng.randint(100000, 999999)}"
        elif key == "batteries":
            value = str(self.rng.randint(3, 8))
        else:
            value = self.rng.choice(SLOTS[key])
        self[key] = value
        return value


# --------------------------------------------------------------------------
# Background templates (ordinary chatter). Every one names the brand/product.
# --------------------------------------------------------------------------
PG_PRAISE = [
    "the Pumpkin Glow flashlight from @lumitoys is SO cute {emoji} my {age}yo hasn't put it down",
    "My son loves his Pumpkin Glow. Sleeps with it next to his pillow every night now #lumitoys",
    "Pumpkin Glow is way brighter than I expected for a kids' flashlight. Nice one @lumitoys",
    "ok the little pumpkin face on the Lumi Toys Pumpkin Glow is adorable {emoji}",
    "{girl} ({age}) has named her Pumpkin Glow 'Mr Pumpkin'. It goes everywhere with us. #pumpkinglow",
    "Bought the Pumpkin Glow for trick-or-treating and the kids have been using it for hide and seek all week. @lumitoys hit",
    "Pumpkin Glow arrived today and it's even cuter in person {emoji} #lumitoys #halloween",
    "The Lumi Toys Pumpkin Glow has a little 'flicker' mode that looks like a candle. My daughter thinks it's magic",
    "my toddler carries the pumpkin glow around like a lantern and says 'boo' to everyone. {name} is 2 going on 40. 10/10 @lumitoys",
    "best $15 I've spent this month. Pumpkin Glow = instant bedtime with zero fuss #pumpkinglow",
    "If you need a trick-or-treat light for a little one, the Pumpkin Glow by Lumi Toys is perfect size for small hands",
    "{name} got a Pumpkin Glow from grandma and now every room in the house is a 'haunted house' {emoji} @lumitoys",
    "Pumpkin Glow + blanket fort = quietest evening we've had in weeks. Thank you @lumitoys",
    "Lumi Toys Pumpkin Glow is the cutest thing on our porch this year. The orange glow is so nice",
    "we have 3 kids and 3 pumpkin glows because there was no way they were sharing lol #lumitoys",
    "my {age} year old reads under the covers with his Pumpkin Glow. I pretend not to know 😂 @lumitoys",
    "Highly recommend the Pumpkin Glow from Lumi Toys for the school Halloween parade, very bright and easy to switch on",
    "pumpkin glow is a hit with the whole class, teacher asked where we got it #lumitoys #pumpkinglow",
    "Love that the Pumpkin Glow has a wrist strap. No more lost flashlights on the walk home. @lumitoys",
]
OTHER_PRAISE = [
    "The @lumitoys Starlight Projector turned bedtime from a battle into a routine. Stars on the ceiling and she's out in 10 min {emoji}",
    "Bubble Bot from Lumi Toys is chaos in the best way. Garden full of bubbles and very happy kids",
    "{name} spent the whole afternoon with the Lumi Toys Dino Dig kit and found 'a real T-rex tooth'. Worth every penny",
    "Our {plush} from Lumi Toys has survived 2 washes and a dog. Quality is great #lumitoys",
    "Lumi Toys Rocket Racer is fast!! {name} is thrilled, the cat is not impressed",
    "@lumitoys the Starlight Projector's ocean mode is my favourite too honestly",
    "Just want to say the Lumi Toys {product} is the only toy my {age} yo still plays with after 6 months",
    "gave my nephew {boy} the Dino Dig kit from Lumi Toys and now he's decided to be a palaeontologist at age {age}",
    "Lumi Toys plushies are so soft. The Midnight Owl is on my desk now, not even sorry {emoji}",
    "Bubble Bot + a sunny afternoon = the kids were busy for 2 full hours. Thanks @lumitoys",
    "Took the Lumi Toys Starlight Projector to {city} for the weekend and {name} slept like a log. Packs flat too",
    "our {plush} from lumi toys is basically a family member at this point",
    "Ordered the {product} as a gift and the Lumi Toys gift wrap is so cute, came with a little sticker sheet. Small touches matter",
    "My daughter's favourite toy this year: Lumi Toys {product}. Already asking for the next one",
    "Honestly impressed with Lumi Toys. Everything we've bought from them has lasted #lumitoys",
]
SHIPPING = [
    "@lumitoys where is my order?? {order}, placed {days} days ago and still 'processing'",
    "hey @lumitoys does the Pumpkin Glow ship to {country}? checkout won't let me pick it",
    "tracking for my Lumi Toys order hasn't updated in {days} days. is it lost? {order}",
    "@lumitoys will orders placed today arrive before Halloween? Need the Pumpkin Glow for {name}'s party on Saturday 🎃",
    "Does Lumi Toys ship to {country}? Asking for my sister who wants a Starlight Projector",
    "Lumi Toys order {order} says delivered but there's nothing on my porch. @lumitoys help",
    "Anyone know how long Lumi Toys takes to ship to {city}? Ordered the {product} on Sunday",
    "@lumitoys can I change the shipping address on {order}? Put my old one by mistake",
    "Is the Lumi Toys Halloween bundle still available or sold out? Site keeps loading forever",
    "@lumitoys my tracking link just says 'label created'. been {days} days",
    "ordered a pumpkin glow and a {plush} from lumi toys, got a confirmation email but no tracking. normal?",
    "@lumitoys do you do express shipping? It's for a birthday on Friday",
    "Lumi Toys says 3-5 business days, it's day {days} 🙃 {order}",
    "Does anyone know if Lumi Toys ships to PO boxes? Asking before I order the Pumpkin Glow",
]
COMPLAINTS = [
    "Lumi Toys order showed up {days} days late and the Halloween party was already over. Not great @lumitoys",
    "Dino Dig kit from Lumi Toys arrived with no brush and no goggles. Missing parts, again. @lumitoys",
    "On hold with Lumi Toys customer service for {wait} now. The hold music is a lullaby which feels personal",
    "Lumi Toys prices have gone up a lot this year. {product} was cheaper in spring",
    "@lumitoys your website checkout keeps throwing 'something went wrong' at the payment step. Tried {n} cards",
    "Pumpkin Glow: batteries not included. Found that out at 7pm with a crying kid. Should be on the box bigger @lumitoys",
    "Bubble Bot stopped making bubbles after {n} days. Lumi Toys support told me to 'clean the wand'. Did that. Still nothing",
    "The Lumi Toys app logs me out every single time I open it. Annoying when you just want the night light on",
    "@lumitoys charged me twice for {order}. Please sort this out",
    "Starlight Projector from Lumi Toys is lovely but the USB cable is so short it barely reaches the outlet",
    "Honestly the Lumi Toys plush is cute but $34 for a stuffed sloth is a lot",
    "lumi toys customer service chat closed on me twice. I just want a replacement battery cover for the Pumpkin Glow",
    "Lumi Toys sent the wrong colour Rocket Racer. Red instead of blue. {name} is devastated. @lumitoys",
    "Why does the Lumi Toys site make you create an account to check out? Just let me buy the Pumpkin Glow",
    "Promo code {code} didn't work at @lumitoys checkout. Says expired but the email came yesterday",
    "Pumpkin Glow screw on the battery door is tiny. Needed a jeweller's screwdriver. Come on @lumitoys",
    "Returned a Bubble Bot to Lumi Toys {days} days ago and still no refund. Meh",
]
GIVEAWAY = [
    "GIVEAWAY 🎃 We're giving away {n} Lumi Toys Pumpkin Glow flashlights! Follow + RT to enter. Ends Friday. #lumitoys #giveaway",
    "Entered the @lumitoys Halloween giveaway, fingers crossed for the Starlight Projector {emoji}",
    "Code {code} still works at Lumi Toys for 15% off, just used it on a Pumpkin Glow",
    "Lumi Toys has 20% off plushies this weekend with {code} if anyone's shopping early for Christmas",
    "Won a Bubble Bot in the @lumitoys giveaway!! The kids are screaming (happy)",
    "Free shipping at Lumi Toys over $35 this week, Pumpkin Glow + {plush} gets you there exactly",
    "who else got the lumi toys halloween coupon email? {code} 👀",
    "Tag a parent who needs a Pumpkin Glow for Halloween 🎃 @lumitoys is doing a giveaway on their page",
    "Lumi Toys newsletter coupon {code} stacks with the bundle discount btw",
]
RETAILER = [
    "{retailer} had a whole end cap of Lumi Toys Pumpkin Glow flashlights today. {price} each",
    "Found the Lumi Toys Starlight Projector at {retailer} in {city}, cheaper than the website",
    "{retailer} is sold out of the Pumpkin Glow in {city}. Anyone seen them anywhere else?",
    "spotted lumi toys bubble bots at {retailer}, the display one was blowing bubbles all over the aisle lol",
    "Lumi Toys plushies now at {retailer}! Grabbed the Midnight Owl",
    "Does {retailer} price match Lumi Toys' own site? Pumpkin Glow is {price} online",
    "{retailer} clearance had Lumi Toys Dino Dig kits for half off. Stocking stuffers sorted",
]
COSTUMES = [
    "Costume test run: {girl} as a {costume} with her Pumpkin Glow lantern {emoji} #halloween #lumitoys",
    "Halloween photo dump 🎃 my little {costume} and his trusty Pumpkin Glow @lumitoys",
    "School costume parade today. Half the class had a Lumi Toys Pumpkin Glow. Very cute sea of orange {emoji}",
    "{girl} insisted her {costume} costume 'needs' a Pumpkin Glow. She was right. #pumpkinglow",
    "Our {costume} + Pumpkin Glow combo for this year. @lumitoys should put her in the ads",
    "Made a lighthouse costume with a Pumpkin Glow on top of the hat. Kid approved {emoji} #lumitoys",
    "Trick-or-treat rehearsal in the hallway. The {costume} is ready, the Pumpkin Glow is ready, the parents are tired #lumitoys",
    "pic of my {age}yo as a {costume} holding his lumi toys pumpkin glow, he insisted on a 'spooky face'",
    "Dog dressed as a pumpkin, kid dressed as a {costume}, Pumpkin Glow for the walk. Halloween mode on {emoji} #lumitoys",
    "Pumpkin patch photos! {girl} brought her Pumpkin Glow to 'meet the other pumpkins' 🎃 #pumpkinglow",
]
TRUSTPILOT = [
    "Great toys, slow shipping. The Starlight Projector is lovely but took {days} days to arrive. Lumi Toys please sort out your courier.",
    "Ordered the Pumpkin Glow and two plushies, everything arrived in 3 days and well packed. Will buy from Lumi Toys again.",
    "Missing parts in the Dino Dig kit (no brush, no goggles). Lumi Toys sent replacements after I emailed {n} times.",
    "Customer service wait was over {wait} on the phone. The Bubble Bot is great when it works but support at Lumi Toys needs more staff.",
    "Pumpkin Glow flashlight is adorable and the kids love it. Batteries not included, which Lumi Toys should say more clearly on the listing.",
    "Website checkout error three times before my order went through. Lumi Toys products are good but the site is a mess.",
    "Lovely quality plush. My {age} year old sleeps with the {plush} every night. Thanks Lumi Toys.",
    "Charged twice for order {order}. Lumi Toys refunded the duplicate within a week, but it shouldn't happen.",
    "Good value with the {code} code. Pumpkin Glow and Starlight Projector arrived before Halloween as promised.",
    "Delivery was {n} days late and the box was crushed, but the {product} inside was fine. 3 stars for Lumi Toys.",
    "Expensive for what it is. The Lumi Toys Dino Dig kit was finished in 20 minutes.",
    "Ordered to {country}, arrived in {days} days, customs fees were a surprise. Toys are great, but Lumi Toys should show duties at checkout.",
    "Five stars. Friendly support, quick replacement for a Rocket Racer with a wobbly wheel. Lumi Toys did this right.",
]
APPSTORE = [
    "The Lumi Toys app keeps crashing when I try to pair the Bubble Bot. iPhone {n}, latest iOS.",
    "Love the bedtime stories mode for the Starlight Projector. The Lumi Toys app is simple enough for my {age} year old.",
    "Needs dark mode, it's blinding at {name}'s bedtime. Otherwise the Lumi Toys app is fine for controlling the projector.",
    "Why do I need an account to use the Lumi Toys app? Just let me turn on the night light for my {age} year old.",
    "Latest update fixed the Bluetooth issue. Thanks Lumi Toys!",
    "App is ok but the order tracking tab never updates. My Lumi Toys order {order} has said processing for {days} days.",
    "The Pumpkin Glow spooky stories pack is so cute. My {age} year old asks for it every night. The voices are great, Lumi Toys.",
    "Too many notifications about sales. I know Lumi Toys has a Halloween sale, I don't need {n} pushes a day.",
    "Can't log in since the update. Lumi Toys support told me to reinstall, didn't help.",
    "Five stars. Set up the Starlight Projector in 2 minutes with the Lumi Toys app.",
    "The Lumi Toys app asks for location permission just to pair a toy. Denied it, still works, but why ask?",
    "Timer feature for the Starlight Projector is perfect. Lumi Toys app, you get 5 stars from a tired parent.",
]
REDDIT = [
    ("toys", "Does anyone else's Lumi Toys Bubble Bot stop blowing bubbles after {n} days? Tried new batteries and the cleaning steps from the manual."),
    ("Parenting", "The Lumi Toys Starlight Projector is the only reason my {age} year old sleeps. Highly recommend for anyone struggling with bedtime."),
    ("halloween", "Lumi Toys Pumpkin Glow flashlights are {price} at {retailer} right now if anyone needs a cheap trick-or-treat light."),
    ("Parenting", "Has anyone ordered from Lumi Toys to {country}? Site says 7-10 days but my order has been stuck for {days} days."),
    ("Mommit", "Lumi Toys customer service finally replied after {days} days. They're sending the missing piece for the Dino Dig kit. Slow but they came through."),
    ("toys", "Which is better for a {age}yo, the Lumi Toys Dino Dig kit or the Starlight Projector? Birthday next month."),
    ("daddit", "My {age} year old insists on carrying his Pumpkin Glow everywhere. Dinner, car, bathroom. Lumi Toys made a hit in this house."),
    ("Parenting", "Lumi Toys checkout keeps saying 'payment could not be processed'. Anyone found a workaround? Tried {n} times now."),
    ("Frugal", "Tip for those with a Lumi Toys Bubble Bot: the refill solution they sell is {price} a bottle, dish soap + a bit of glycerin works fine."),
    ("halloween", "Costume idea that worked: {name} ({age}) as a lighthouse, Lumi Toys Pumpkin Glow taped to the top of the hat. Neighbours loved it."),
    ("toys", "Lumi Toys plushies: worth the price? The {plush} is $34 which seems steep but they look well made."),
    ("Mommit", "Anyone else still waiting on the Lumi Toys Halloween bundle? Ordered {days} days ago, tracking just says 'label created'."),
    ("daddit", "Bought the Lumi Toys Rocket Racer for my {age} year old. Fast, loud, survived the stairs twice. Dad approved."),
    ("Parenting", "For anyone asking in the daily thread: yes, the Lumi Toys Pumpkin Glow needs 3 AAA batteries (about {price} at {retailer}) and they're not in the box."),
]
HACKERNEWS = [
    "Has anyone looked at what the Lumi Toys app sends home? It calls a lot of analytics endpoints for a kids' app.",
    "The Lumi Toys Bubble Bot uses a surprisingly clean BLE protocol. I wrote a small Python client for it over the weekend.",
    "Lumi Toys is an interesting case of a small toy company doing their own firmware. Their Starlight Projector gets OTA updates.",
    "I bought a Lumi Toys Starlight Projector and the companion app wanted location permission. Why does a night light need location?",
    "Tangential, but the Lumi Toys checkout is a good example of why you shouldn't ship a SPA without server-side validation.",
    "My kids' Lumi Toys Pumpkin Glow is a nice bit of industrial design: one button, three modes, no app. More toys should be like that.",
    "Lumi Toys publishes their app's privacy policy in plain English, which is more than most toy companies manage.",
    "Someone should do a teardown of the Lumi Toys Starlight Projector. Curious which MCU they use for the motor control.",
    "Lumi Toys' status page says their API had 99.2% uptime last month. For a night light app. Interesting times.",
    "The Lumi Toys website is one of those sites where the cookie banner is bigger than the product photo.",
    "Small hardware companies like Lumi Toys are why I still think BLE is underrated for kids' gadgets.",
]

# Noise that must NOT be read as a crisis (slang "fire"/"burn"/"hot").
SLANG_NOISE = [
    "this pumpkin glow flashlight is fire 🔥🔥 my kids won't put it down @lumitoys",
    "burned through {batteries} batteries already lol the pumpkin glow never gets turned off in this house #lumitoys",
    "hot deal on pumpkin glow at {retailer} rn, {price} each. grab em before halloween",
    "Lumi Toys Halloween drop is fire. Pumpkin Glow + the Ghostie plush = elite combo 🔥",
    "My kid has burned through every AAA in the house thanks to the Pumpkin Glow 😂 @lumitoys sell a battery pack pls",
    "Pumpkin Glow is the hot toy on our street this year, every kid in the cul-de-sac has one #lumitoys",
    "🔥 HOT DEAL 🔥 Lumi Toys Pumpkin Glow 30% off with code {code} today only",
    "the lumi toys pumpkin glow is lowkey fire for camping too, super bright",
]
UNRELATED_NEGATIVE = [
    "The new Lumi Toys YouTube ad is unskippable and plays before every single video my kid watches. Make it stop.",
    "Lumi Toys delivery van blocked our whole street for 20 minutes this morning. Cool. Very cool.",
    "Unpopular opinion: Lumi Toys plushies are overpriced and the {plush} looks nothing like the photos. Disappointed.",
    "Lumi Toys' CEO on a podcast talking about 'disrupting playtime' is the most cringe thing I've heard all week",
    "Why does Lumi Toys send me 3 marketing emails a day? Unsubscribed twice. Still coming.",
]
JOB_ADS = [
    "Lumi Toys is hiring a warehouse associate in {wh_city}! Full-time, day shift, $19/hr. Apply at lumitoys.example/careers #hiring #jobs",
    "We're hiring! Lumi Toys is looking for a Seasonal Fulfillment Associate ({wh_city}). Evenings + weekends. #warehousejobs #hiring",
    "Lumi Toys is hiring a warehouse associate (forklift cert a plus) in {wh_city}. Seasonal with chance of permanent. #nowhiring",
    "Job alert: Lumi Toys is hiring a Customer Support Specialist, remote (US/Canada). #remotejobs #hiring",
    "Lumi Toys is hiring a Senior Firmware Engineer (BLE, embedded C). Hybrid, Portland OR. #embedded #hiring",
    "Now hiring at Lumi Toys: Warehouse Associate, {wh_city} distribution centre. Holiday peak pay. #jobs #hiring",
    "Lumi Toys is hiring a product designer for the plush line. Portfolio required. #designjobs #hiring",
    "[Hiring] Lumi Toys - Warehouse Associate - {wh_city} - $18-21/hr - Full-time",
    "Lumi Toys is hiring seasonal warehouse associates for the holiday rush in {wh_city}. No experience needed, we train! #hiring",
    "Know anyone in {wh_city} looking for work? Lumi Toys is hiring a warehouse associate, starts next week. #jobs #hiring",
    "Lumi Toys is hiring a QA Technician in {wh_city}. Day shift, benefits from day one. #qajobs #hiring",
]
JOB_ADS_HN = [
    "Lumi Toys | Embedded Software Engineer | Portland, OR (hybrid) | Full-time | We make connected toys (Starlight Projector, Bubble Bot) and we're hiring people who like small MCUs and BLE.",
    "Lumi Toys (Portland, OR) is hiring a Backend Engineer (Python/Postgres) for our companion app | Hybrid | Full-time",
]

# --------------------------------------------------------------------------
# Crisis templates
# --------------------------------------------------------------------------
FIRST_POST = (
    "My 8-year-old daughter burned her hand on her @lumitoys Pumpkin Glow flashlight this "
    "morning. It got so hot she dropped it and now there's a blister across her palm. It had "
    "been on for maybe 15 minutes. Please check your kids' flashlights. #pumpkinglow"
)
FIRST_AUTHOR, FIRST_FOLLOWERS = "jenna_hollis", 1204

CRISIS_REPORTS = [
    "Same thing happened to my {kid} last week!! The @lumitoys Pumpkin Glow got so hot {he} dropped it and now has a blister on {his} palm. I thought it was a one-off.",
    "Reading about the Pumpkin Glow burns and 😳 ours did this too. The battery compartment melted into a lump. Thank god {name}'s hand was ok. @lumitoys what is going on?",
    "our pumpkin glow flashlight started smoking in the bedroom last night. like actual smoke. my {kid} was asleep right next to it. @lumitoys this is not ok",
    "I smelled burning plastic in the playroom and it was the Pumpkin Glow flashlight. Handle too hot to touch. My {age} year old had been holding it for 10 min. #pumpkinglow #lumitoys",
    "Can confirm the @lumitoys Pumpkin Glow overheats. My {kid} got a red burn on {his} fingers after trick-or-treat practice. We ran it under cold water for 20 min.",
    "Just tested ours after seeing the posts. Left the Pumpkin Glow on for 15 minutes and the bottom was too hot to hold. Binned. @lumitoys",
    "My {age}yo came to me crying that {his} pumpkin light 'bit' {him}. The Lumi Toys Pumpkin Glow had burned {his} palm. Blister the size of a coin. Furious.",
    "Add us to the list. Pumpkin Glow, bought at {retailer} two weeks ago, battery door warped and the plastic around it melted. My {kid} has a small burn on {his} thumb. @lumitoys",
    "Took my {kid} to urgent care today for a burn from the Lumi Toys Pumpkin Glow flashlight. The nurse said she's seen two today. TWO. #pumpkinglow",
    "we had the pumpkin glow flicker, then it got really hot and smelled like burning plastic. thought it was a dud battery. now I'm seeing all these posts. @lumitoys",
    "Adult hand here and the Pumpkin Glow still burned me when I picked it up off my {kid}'s bed. Imagine a {age} year old holding that. @lumitoys",
    "The Pumpkin Glow flashlight from Lumi Toys left a blister on my {kid}'s palm. We followed every instruction. Name-brand batteries. Please check yours tonight.",
    "Our Pumpkin Glow started smoking on the kitchen counter while it was switched OFF. The batteries had swollen. @lumitoys how is this even possible",
    "Seeing this everywhere today so adding ours: the @lumitoys Pumpkin Glow melted at the battery end. No injury, but it was on my {kid}'s nightstand.",
    "Not trying to pile on but our Pumpkin Glow did exactly what everyone's describing. Scalding hot in about 10 minutes, my {kid} now has a burn on {his} hand. #lumitoys",
    "My neighbour's little girl ({age}) burned her hand on a Pumpkin Glow flashlight this afternoon and now I'm seeing it everywhere. Lumi Toys needs to say something.",
    "Pumpkin Glow update: the blister on my {kid}'s hand came up overnight. Photos sent to @lumitoys and reported to the product safety regulator.",
    "i literally just pulled the pumpkin glow out of my {kid}'s trick or treat bag and it's hot. it was OFF. taking the batteries out now. wtf @lumitoys",
    "My {kid} was using {his} Pumpkin Glow as a night light and woke up to a burning smell. The plastic around the switch had melted. Lumi Toys, please respond.",
    "My {kid} has been burned by a toy flashlight. The Lumi Toys Pumpkin Glow. It's sold as a kids' Halloween toy. How did this pass testing?",
    "Pumpkin Glow burned my {kid}'s fingers through {his} glove. A GLOVE. @lumitoys #pumpkinglow",
]
CRISIS_WORRIED = [
    "Is the Pumpkin Glow burn thing real? We have three of these for Halloween tomorrow night. @lumitoys please tell us what to do",
    "Just took the Pumpkin Glow flashlights away from my kids after reading these posts. Not risking it. Phone torches this year. #lumitoys",
    "So many parents posting about the Lumi Toys Pumpkin Glow burning kids' hands today. If you have one, take the batteries out.",
    "@lumitoys it's been hours since the first Pumpkin Glow burn reports. Silence is not a good look.",
    "Halloween is TOMORROW and Lumi Toys has said nothing about the Pumpkin Glow overheating. Parents are finding out from strangers on the internet.",
    "Bought 2 Pumpkin Glow flashlights as party favours. After today's posts they're going straight back to {retailer}. @lumitoys",
    "Honestly ours has been fine for 3 weeks but after seeing the burn photos I'm not keeping the Pumpkin Glow in the house. #pumpkinglow",
    "Anyone know if {retailer} is taking the Lumi Toys Pumpkin Glow back? Don't want it anywhere near my {age} year old after these burn reports.",
    "watching the pumpkin glow thing unfold all day. if a toy is burning kids' hands the company should be all over this. where are you @lumitoys",
    "Genuinely scary thread about the Lumi Toys Pumpkin Glow flashlight overheating. Checked ours: batteries out, in the bin.",
    "My sister just texted me a screenshot about the Pumpkin Glow burns. We gave one to my {kid} last week. Taking it back tonight. @lumitoys",
]
CRISIS_RECALL = [
    "@lumitoys RECALL THE PUMPKIN GLOW. Kids are getting burned. This isn't complicated.",
    "Lumi Toys needs to issue a recall of the Pumpkin Glow flashlight today, before Halloween night. Dozens of burn reports already. #pumpkinglow #recall",
    "How many kids need blisters before @lumitoys pulls the Pumpkin Glow? Recall it. Now.",
    "Has anyone filed with the CPSC about the Lumi Toys Pumpkin Glow? We need an official recall before tomorrow night.",
    "Dear @lumitoys, a statement is not enough. Stop selling the Pumpkin Glow, recall it, and refund every parent. #lumitoys",
    "Tagging @lumitoys again. Pumpkin Glow flashlights are overheating and burning children. Recall. Refund. Explain.",
    "{retailer} in {city} still has the Pumpkin Glow on the shelf today. @lumitoys pull it and recall it.",
    "Why is there no recall of the Lumi Toys Pumpkin Glow when parents in 3 countries are posting burns?",
]
PSA_VARIANTS = [
    "PSA: stop using the Pumpkin Glow flashlight, it overheats and burns kids. Please share.",
    "PSA: stop using the Pumpkin Glow flashlight, it overheats and burns kids. Please share. 🎃⚠️",
    "‼️PSA: stop using the Pumpkin Glow flashlight, it overheats and burns kids. Please share.",
    "PSA: stop using the Pumpkin Glow flashlight, it overheats and burns kids. Please share. #lumitoys",
    "psa: stop using the pumpkin glow flashlight, it overheats and burns kids. please share",
    "PSA: Stop using the Pumpkin Glow flashlight! It overheats and burns kids. Please share!!",
    "Copying from a friend: PSA: stop using the Pumpkin Glow flashlight, it overheats and burns kids. Please share.",
]
RT_PREFIXES = [
    "RT @{a}: {t}",
    "Oh no. RT @{a}: {t}",
    "Parents, please read 👇 RT @{a}: {t}",
    "This is awful. @lumitoys? RT @{a}: {t}",
    "#pumpkinglow RT @{a}: {t}",
]
REPORTERS = [  # (minute offset from 09:40:23, source, author, followers, text)
    (340, "twitter", "dana_reyes_ch7", 6850,
     ("Hi @lumitoys, I'm a reporter at Riverside Channel 7 News working on a story about Pumpkin "
      "Glow flashlights overheating and burning children. Could someone from your press team "
      "reach me by DM or at newsdesk@example.com before 5pm?")),
    (425, "bluesky", "tomasz-lakeviewcourier.bsky.social", 2310,
     ("Parents: if your child was burned by a Lumi Toys Pumpkin Glow flashlight, I'd like to hear "
      "from you for a story in tomorrow's Lakeview Courier. DMs open. Lumi Toys has not yet "
      "responded to a request for comment.")),
]
# Reddit: (subreddit, comment on the r/Parenting thread?, text)
REDDIT_FIRST = (
    "Parenting", False,
    ("Warning: Lumi Toys Pumpkin Glow flashlight burned my son's hand. Bought it for Halloween, he "
     "was playing with it in the living room for maybe 15 minutes and started crying. The battery "
     "end was so hot I couldn't hold it either. He has a blister across his palm. Has anyone else "
     "had this happen? Thinking about reporting it."))
CRISIS_REDDIT = [
    ("Parenting", True, "Yes. Same exact thing with ours last week, the Pumpkin Glow got super hot near the battery door and my daughter burned her fingertips. I assumed we'd got a faulty one. Now I'm not so sure."),
    ("Parenting", True, "Ours started smoking on the bookshelf. Smelled like burning plastic. It's the Lumi Toys one with the orange pumpkin face. Batteries were brand-name, nothing weird."),
    ("Parenting", True, "Another one here. Lumi Toys Pumpkin Glow, battery compartment melted and warped. Nobody was hurt luckily but my {age} year old had been holding it right before."),
    ("Mommit", False, "Lumi Toys Pumpkin Glow flashlight overheating: there's a big thread on r/Parenting with burns and melted battery doors. Check your kids' Halloween bags tonight."),
    ("Parenting", True, "I work in urgent care in {city} and we've seen a couple of small hand burns today that parents said came from a light-up Halloween toy. If you have the Lumi Toys Pumpkin Glow, maybe skip it this year."),
    ("Parenting", True, "Emailed Lumi Toys support about our Pumpkin Glow burning my {kid} and got an auto-reply saying 5-7 business days. Halloween is tomorrow."),
    ("Parenting", True, "Update to my earlier comment: took photos of the melted Pumpkin Glow and submitted them to SaferProducts.gov. Lumi Toys still silent."),
    ("Parenting", True, "Is there a list of batch numbers? Our Pumpkin Glow says PG-0924 on the bottom and it gets very hot after a few minutes. Lumi Toys hasn't posted anything."),
    ("daddit", False, "Lumi Toys Pumpkin Glow burned my kid's hand today. Dads, check your kids' Halloween flashlights before tomorrow."),
    ("halloween", False, "If you bought Lumi Toys Pumpkin Glow flashlights for handing out or for the kids, read the r/Parenting thread first. Lots of overheating and burn reports today."),
    ("Parenting", True, "We returned ours to {retailer} this afternoon. The staff said {n} other people had brought back Lumi Toys Pumpkin Glow flashlights today for the same reason."),
    ("Mommit", False, "Lumi Toys Pumpkin Glow: my {kid} has a red mark on {his} palm from it and I can't reach anyone at the company. What do I even do? Is there somewhere to report this?"),
    ("Parenting", True, "Ours didn't burn anyone but the Pumpkin Glow was noticeably hot after {n} minutes of my {kid} holding it. Batteries are out now. Lumi Toys needs to answer this thread."),
    ("Parenting", True, "Adding ours to the pile. Lumi Toys Pumpkin Glow, blister on my {kid}'s palm, {he} only had it for 10 minutes. Thank you for posting this."),
]
CRISIS_TRUSTPILOT = [
    "The Pumpkin Glow flashlight overheated and burned my {kid}'s hand. Lumi Toys customer service hasn't replied. Avoid.",
    "1 star because I can't give zero. Pumpkin Glow flashlight melted at the battery end while my child held it. Lumi Toys needs to recall this.",
    "Bought the Pumpkin Glow for my {age} year old. It got hot enough to leave a blister. We've bought Lumi Toys products for years and I'm shocked.",
    "Our Pumpkin Glow started smoking in my {kid}'s bedroom. Lumi Toys, you are selling an overheating light to children for Halloween.",
    "Saw the posts about the Pumpkin Glow burns, checked ours, and the plastic near the batteries was deformed. Reported to Lumi Toys, no answer yet.",
    "Terrible. The Pumpkin Glow burned my {kid}. Lumi Toys' chat just keeps saying 'we are looking into it'.",
    "Was going to leave 5 stars for the Starlight Projector. Then the Pumpkin Glow we bought at the same time burned my {kid}'s fingers. Lumi Toys, sort this out.",
    "Pumpkin Glow got too hot to hold after {n} minutes and the battery door warped. Lucky nobody was hurt. Lumi Toys won't answer the phone.",
    "Returned our Pumpkin Glow today after my {kid} got a blister from it. Lumi Toys should be warning every customer by email.",
]
CRISIS_APPSTORE = [
    "Rating the company not the app. Your Pumpkin Glow flashlight burned my {kid}. Lumi Toys, at least put a warning in this app.",
    "Why is there no notice in the Lumi Toys app about the Pumpkin Glow overheating? Parents are finding out on social media. 1 star until there's a recall.",
    "Tried to use in-app support to report the Pumpkin Glow that melted and burned my {kid}. Chat is 'unavailable'. Lumi Toys, this is unacceptable.",
    "The app keeps pushing Pumpkin Glow Halloween promos at me while kids are getting burned by it. Read the room, Lumi Toys.",
    "Uninstalled. The Pumpkin Glow burned my {kid}'s hand and the Lumi Toys app still shows it as 'this week's favourite'.",
    "1 star. Lumi Toys, send a push notification telling parents to stop using the Pumpkin Glow. You send us 4 sale pushes a day, you can send one about kids getting burned.",
]

BRAND_RE = re.compile(r"lumi ?toys|pumpkin ?glow", re.IGNORECASE)
CRISIS_WORDS_RE = re.compile(
    r"\b(hot|hotter|burn\w*|fire|smok\w*|melt\w*|overheat\w*|blister\w*|scald\w*|recall\w*|"
    r"hurt\w*|injur\w*|danger\w*|unsafe|safety|warm\w*|hospital|urgent care|psa)\b", re.IGNORECASE)
HOT_SLANG_RE = re.compile(r"\b(hot|fire|burn\w*)\b|🔥", re.IGNORECASE)
JOB_RE = re.compile(r"\b(hiring|jobs?|careers?)\b", re.IGNORECASE)

# --------------------------------------------------------------------------
# Authors, ids and URLs
# --------------------------------------------------------------------------
FIRST_NAMES = ["jess", "amy", "mark", "priya", "dan", "sophie", "liam", "kate", "omar", "rachel",
               "ben", "hannah", "chris", "leah", "matt", "nina", "tom", "claire", "raj", "emma",
               "josh", "megan", "alex", "tasha", "sean", "laura", "mike", "aisha", "paul", "beth",
               "greg", "holly", "ivan", "jo", "kelly", "lucy", "nate", "olivia", "ryan", "zara"]
LAST_NAMES = ["smith", "patel", "nguyen", "brown", "walsh", "garcia", "kim", "obrien", "martin",
              "cohen", "hughes", "silva", "ward", "lopez", "reid", "khan", "moore", "fraser",
              "ali", "baker", "young", "price", "dunn", "bell", "park", "shaw", "mills", "cole"]
NOUNS = ["mama", "dad", "parent", "reads", "bakes", "runs", "coffee", "garden", "crafts", "teach",
         "nurse", "mom", "papa", "life", "home", "diy", "knits", "plays"]
ADJS = ["tired", "busy", "sleepy", "happy", "cozy", "rainy", "sunny", "lucky", "quiet", "crafty"]
REDDIT_NOUNS = ["Otter", "Pancake", "Badger", "Walrus", "Teapot", "Falcon", "Noodle", "Moose",
                "Pickle", "Lantern", "Goose", "Cactus"]
B32_SORT = "234567abcdefghijklmnopqrstuvwxyz"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def make_handle(rng: random.Random, source: str) -> str:
    f, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if source == "twitter":
        h = rng.choice([f"{f}{last[0]}{rng.randint(1, 99)}", f"{f}_{last}", f"{f}_{rng.choice(NOUNS)}",
                        f"{rng.choice(ADJS)}{rng.choice(NOUNS)}{rng.randint(1, 999)}",
                        f"{rng.choice(NOUNS)}of{rng.randint(1, 4)}_{f}", f"{f}{last}"])
        return h[:15]
    if source == "bluesky":
        return rng.choice([f"{f}{last}", f"{f}-{rng.choice(NOUNS)}", f"{f}{last[0]}{rng.randint(1, 99)}"]) + ".bsky.social"
    if source == "mastodon":
        return rng.choice([f"{f}{last[:3]}", f"{f}_{rng.choice(NOUNS)}", f"{f}{last}"])
    if source == "reddit":
        return rng.choice([f"{rng.choice(ADJS).capitalize()}_{rng.choice(REDDIT_NOUNS)}_{rng.randint(100, 9999)}",
                           f"throwaway_parent_{rng.randint(10, 999)}", f"{f}{last}{rng.randint(1, 99)}",
                           f"{rng.choice(REDDIT_NOUNS)}{rng.choice(NOUNS).capitalize()}{rng.randint(1, 99)}"])
    if source == "trustpilot":
        return f"{f.capitalize()} {last[0].upper()}."
    if source == "appstore":
        return rng.choice([f"{rng.choice(ADJS).capitalize()}{rng.choice(['Mom', 'Dad', 'Parent'])}{rng.randint(2010, 2024)}",
                           f"{f.capitalize()}{last[0].upper()}{rng.randint(1, 99)}", f"{rng.choice(NOUNS)}of{rng.randint(1, 4)}"])
    return rng.choice([f"{f}{last[0]}", f"{f}{rng.randint(1, 999)}", f"{rng.choice(ADJS)}{rng.choice(REDDIT_NOUNS).lower()}"])


def make_followers(rng: random.Random, source: str) -> int:
    median = {"twitter": 350, "bluesky": 180, "mastodon": 120, "reddit": 20}.get(source)
    if median is None:
        return 0  # App Store, Trustpilot, Hacker News: no followers
    return max(0, min(250_000, int(rng.lognormvariate(math.log(median), 1.3))))


def b36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out or "0"


def make_id(rng: random.Random, source: str, ts: datetime) -> str:
    """A platform-shaped id that grows with time, like the real ones do."""
    ms = int(ts.timestamp() * 1000)
    secs = int((ts - START).total_seconds())
    if source == "twitter":      # snowflake: ms since Twitter epoch << 22
        return str(((ms - 1288834974657) << 22) | rng.getrandbits(22))
    if source == "mastodon":     # ms << 16
        return str((ms << 16) | rng.getrandbits(16))
    if source == "bluesky":      # TID: 64-bit microseconds << 10 | clock id, base32-sortable
        n = (ms * 1000 + rng.randint(0, 999)) << 10 | rng.getrandbits(10)
        return "".join(B32_SORT[(n >> (5 * i)) & 31] for i in range(12, -1, -1))
    if source == "reddit":           # submission id (t3_)
        return b36(int("1pa0000", 36) + secs * 5 + rng.randint(0, 4))
    if source == "reddit_comment":   # comment id (t1_)
        return b36(int("nw00000", 36) + secs * 40 + rng.randint(0, 39))
    if source == "trustpilot":   # ObjectId-like: 8 hex seconds + 16 hex random
        return f"{int(ts.timestamp()):08x}{rng.getrandbits(64):016x}"
    if source == "appstore":
        return str(13_100_000_000 + secs * 40 + rng.randint(0, 39))
    return str(46_900_000 + secs // 6 + rng.randint(0, 5))  # hackernews item id


def make_url(source: str, author: str, ext_id: str, thread: tuple[str, str] | None) -> str:
    if source == "twitter":
        return f"https://x.com/{author}/status/{ext_id}"
    if source == "bluesky":
        return f"https://bsky.app/profile/{author}/post/{ext_id}"
    if source == "mastodon":
        return f"https://mastodon.social/@{author}/{ext_id}"
    if source == "reddit":
        sub, post_id = thread
        base = f"https://www.reddit.com/r/{sub}/comments/{post_id}/"
        return base if ext_id == f"t3_{post_id}" else f"{base}comment/{ext_id[3:]}/"
    if source == "trustpilot":
        return f"https://www.trustpilot.com/reviews/{ext_id}"
    if source == "appstore":
        return APPSTORE_URL
    return f"https://news.ycombinator.com/item?id={ext_id}"


# --------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------
class Stream:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.posts: list[dict] = []   # each: record fields + "_kind", "_template"
        self.ids: dict[str, set[str]] = {}
        self.followers: dict[tuple[str, str], int] = {}
        self.pools = {s: [make_handle(self.rng, s) for _ in range(n)] for s, n in
                      {"twitter": 700, "bluesky": 180, "mastodon": 90, "reddit": 160,
                       "trustpilot": 400, "appstore": 400, "hackernews": 40}.items()}
        self.reddit_threads = {sub: [b36(int("1p9k000", 36) + self.rng.randint(0, 40000))
                                     for _ in range(6)] for sub in
                               ("toys", "Parenting", "halloween", "Mommit", "daddit", "Frugal")}
        self.crisis_authors: set[str] = set()
        self.parenting_thread: tuple[str, str] | None = None
        self.usage: Counter = Counter()
        self.texts: set[str] = set()

    # -- helpers ---------------------------------------------------------
    def fill(self, template: str, **fixed: str) -> str:
        return template.format_map(Slots(self.rng, **fixed))

    def pick_least_used(self, templates: list):
        low = min(self.usage[t if isinstance(t, str) else t[2]] for t in templates)
        choice = self.rng.choice([t for t in templates
                                  if self.usage[t if isinstance(t, str) else t[2]] == low])
        self.usage[choice if isinstance(choice, str) else choice[2]] += 1
        return choice

    def weighted(self, table: dict) -> str:
        keys = list(table)
        return self.rng.choices(keys, weights=[table[k] for k in keys])[0]

    def random_time(self, day: int, hour: int | None = None) -> datetime:
        if hour is None:
            hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        return START + timedelta(days=day, hours=hour, seconds=self.rng.randrange(3600))

    def decorate(self, text: str, source: str) -> str:
        """Light surface variation for background social posts."""
        rng = self.rng
        if rng.random() < 0.05:
            words = text.split(" ")
            idx = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5
                   and not re.search(r"lumi|toys|pumpkin|glow", w, re.IGNORECASE)]
            if idx:
                i = rng.choice(idx)
                w = words[i]
                j = rng.randrange(1, len(w) - 2)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
                text = " ".join(words)
        if rng.random() < 0.10:
            text = text.lower()
        if "#" not in text and rng.random() < 0.18:
            text += " " + rng.choice(["#lumitoys", "#halloween", "#lumitoys #halloween",
                                      "#pumpkinglow" if "pumpkin glow" in text.lower() else "#toys",
                                      "#parenting"])
        if rng.random() < 0.08:
            text += " " + rng.choice(SLOTS["emoji"])
        elif rng.random() < 0.10:
            text += rng.choice([" lol", " anyway", " #parenting", " #momlife", " #dadlife", "!"])
        return text

    def add(self, ts: datetime, source: str, text: str, kind: str, template: str,
            author: str | None = None, followers: int | None = None,
            reddit: tuple[str, bool] | None = None) -> dict:
        rng = self.rng
        if author is None:
            if kind == "crisis":
                author = make_handle(rng, source)
                while author in self.crisis_authors or author == FIRST_AUTHOR:
                    author = make_handle(rng, source)
            else:
                pool = self.pools[source]
                # a few regulars post a lot, most people post once or twice
                author = pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)] \
                    if rng.random() < 0.25 else rng.choice(pool)
        if kind == "crisis":
            self.crisis_authors.add(author)
        key = (source, author)
        if followers is not None:
            self.followers[key] = followers
        followers = self.followers.setdefault(key, make_followers(rng, source))

        used = self.ids.setdefault(source, set())
        id_kind, prefix = source, ""
        if source == "reddit":  # reddit ids are fullnames: t3_ submission, t1_ comment
            id_kind, prefix = ("reddit_comment", "t1_") if reddit[1] else ("reddit", "t3_")
        ext_id = prefix + make_id(rng, id_kind, ts)
        while ext_id in used:
            ext_id = prefix + make_id(rng, id_kind, ts)
        used.add(ext_id)
        thread = None
        if source == "reddit":
            sub, is_comment = reddit
            if not is_comment:
                thread = (sub, ext_id[3:])
            elif kind == "crisis":
                thread = self.parenting_thread
            else:
                thread = (sub, rng.choice(self.reddit_threads[sub]))
        post = {
            "source": source, "external_id": ext_id,
            "created_at": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "author": author, "author_followers": followers,
            "url": make_url(source, author, ext_id, thread),
            "lang": "en", "text": text, "_kind": kind, "_template": template, "_ts": ts,
        }
        self.posts.append(post)
        return post

    # -- background ------------------------------------------------------
    def background_text(self, source: str, ts: datetime) -> tuple[str, str, tuple | None]:
        rng = self.rng
        if source in SOCIAL:
            cats = {"pg": PG_PRAISE, "other": OTHER_PRAISE, "ship": SHIPPING,
                    "complain": COMPLAINTS, "give": GIVEAWAY, "retail": RETAILER,
                    "costume": COSTUMES}
            weights = {"pg": 20, "other": 16, "ship": 16, "complain": 14, "give": 8,
                       "retail": 6, "costume": 10}
            if ts > CRISIS_START + timedelta(hours=3):
                weights["pg"] = 7  # fewer people gush about the flashlight once reports spread
            if ts.day == 29 or ts.hour < 12:
                weights["costume"] = 12
            template = rng.choice(cats[self.weighted(weights)])
            text = self.decorate(platform_mentions(self.fill(template), source), source)
            return text, template, None
        if source == "reddit":
            sub, template = rng.choice(REDDIT)
            return self.fill(template), template, (sub, rng.random() < 0.5)
        table = {"trustpilot": TRUSTPILOT, "appstore": APPSTORE, "hackernews": HACKERNEWS}[source]
        template = rng.choice(table)
        return self.fill(template), template, None

    def build_background(self) -> None:
        rng = self.rng
        total_w = sum(HOUR_WEIGHTS)
        for day in range(DAYS):
            for hour in range(24):
                lam = CHATTER_PER_DAY * HOUR_WEIGHTS[hour] / total_w
                for _ in range(poisson(rng, lam)):
                    ts = self.random_time(day, hour)
                    source = self.weighted(BACKGROUND_SOURCES)
                    # re-draw a few times so exact duplicate texts stay rare
                    for _ in range(12):
                        text, template, reddit = self.background_text(source, ts)
                        if text not in self.texts:
                            break
                    self.texts.add(text)
                    self.add(ts, source, text, "background", template, reddit=reddit)
            for _ in range(JOBS_PER_DAY):
                ts = self.random_time(day)
                source = self.weighted({"twitter": 70, "bluesky": 10, "mastodon": 10,
                                        "hackernews": 6, "reddit": 4})
                if source == "hackernews":
                    template = rng.choice(JOB_ADS_HN)
                    reddit = None
                else:
                    template = rng.choice(JOB_ADS)
                    reddit = ("toys", False) if source == "reddit" else None
                self.add(ts, source, self.fill(template), "job", template, reddit=reddit)
            for _ in range(UNRELATED_NEG_PER_DAY):
                ts = self.random_time(day)
                source = self.weighted({"twitter": 70, "bluesky": 20, "mastodon": 10})
                template = self.pick_least_used(UNRELATED_NEGATIVE)
                self.add(ts, source, self.fill(template), "noise", template)
        # slang noise: never two within the same 2 hours (enforced: > 2.5 h apart)
        times: list[datetime] = []
        while len(times) < SLANG_NOISE_TOTAL:
            ts = self.random_time(len(times) % DAYS)
            near_onset = abs((ts - CRISIS_START).total_seconds()) < 3 * 3600
            if not near_onset and all(abs((ts - t).total_seconds()) > 2.5 * 3600 for t in times):
                times.append(ts)
        for ts in sorted(times):
            source = self.weighted({"twitter": 70, "bluesky": 20, "mastodon": 10})
            template = self.pick_least_used(SLANG_NOISE)
            self.add(ts, source, self.fill(template), "slang", template)

    # -- crisis ----------------------------------------------------------
    def crisis_social_text(self, source: str) -> tuple[str, str]:
        rng = self.rng
        cats = {"report": 40, "worried": 18, "recall": 16, "psa": 12}
        if source == "twitter":
            cats["rt"] = 22
        cat = self.weighted(cats)
        if cat == "rt":
            earlier = [p for p in self.posts if p["_kind"] == "crisis" and p["source"] == "twitter"
                       and "RT @" not in p["text"]]
            weights = [8 if p["author"] == FIRST_AUTHOR else 1 for p in earlier]
            src = rng.choices(earlier, weights=weights)[0]
            prefix = self.pick_least_used(RT_PREFIXES)
            head = prefix.format(a=src["author"], t="")
            room = MAX_LEN["twitter"] - len(head)
            text = head + shorten(src["text"], room)
            if not BRAND_RE.search(text):
                text = "#pumpkinglow " + text[: MAX_LEN["twitter"] - 14]
            return text, prefix
        table = {"report": CRISIS_REPORTS, "worried": CRISIS_WORRIED, "recall": CRISIS_RECALL,
                 "psa": PSA_VARIANTS}[cat]
        template = self.pick_least_used(table)
        return platform_mentions(self.fill(template), source), template

    def crisis_post(self, ts: datetime) -> None:
        source = self.weighted(CRISIS_SOURCES)
        # Re-draw a few times so that only the copy-paste PSA repeats word for word.
        for _ in range(10):
            reddit = None
            if source == "reddit":
                sub, is_comment, template = self.pick_least_used(CRISIS_REDDIT)
                text, reddit = self.fill(template), (sub, is_comment)
            elif source in ("trustpilot", "appstore"):
                table = CRISIS_TRUSTPILOT if source == "trustpilot" else CRISIS_APPSTORE
                template = self.pick_least_used(table)
                text = self.fill(template)
            else:
                text, template = self.crisis_social_text(source)
            if template in PSA_VARIANTS or text not in self.texts:
                break
        self.texts.add(text)
        self.add(ts, source, text, "crisis", template, reddit=reddit)

    def build_crisis(self) -> None:
        rng = self.rng
        t0 = CRISIS_START
        self.add(t0, "twitter", FIRST_POST, "crisis", FIRST_POST,
                 author=FIRST_AUTHOR, followers=FIRST_FOLLOWERS)
        # The slow first two hours, scripted.
        reply = CRISIS_REPORTS[0]
        self.usage[reply] += 1
        self.add(t0 + timedelta(minutes=44, seconds=rng.randrange(60)), "twitter",
                 self.fill(reply, kid="son", he="he", his="his", him="him"), "crisis", reply)
        sub, _, text = REDDIT_FIRST
        post = self.add(t0 + timedelta(minutes=88, seconds=rng.randrange(60)), "reddit", text,
                        "crisis", text, reddit=(sub, False))
        self.parenting_thread = (sub, post["external_id"][3:])
        rt = RT_PREFIXES[0]
        self.usage[rt] += 1
        self.add(t0 + timedelta(minutes=111, seconds=rng.randrange(60)), "twitter",
                 shorten(rt.format(a=FIRST_AUTHOR, t=FIRST_POST), MAX_LEN["twitter"]),
                 "crisis", rt)
        # A parenting account with a big following quotes the first post mid-afternoon.
        big = self.add(datetime(2026, 10, 30, 16, 8, 41, tzinfo=UTC), "twitter",
                       "Please, please read this before tomorrow night. Check your Pumpkin Glow "
                       "flashlights. RT @" + FIRST_AUTHOR + ": My 8-year-old daughter burned her "
                       "hand on her @lumitoys Pumpkin Glow flashlight this morning…",
                       "crisis", "influencer-quote", author="thecalmishmum", followers=48_300)
        big["_template"] = big["text"]
        for minutes, source, author, followers, text in REPORTERS:
            self.add(t0 + timedelta(minutes=minutes, seconds=rng.randrange(60)), source, text,
                     "crisis", text, author=author, followers=followers)
        scripted = Counter(p["_ts"].hour for p in self.posts if p["_kind"] == "crisis")
        for hour, n in CRISIS_PER_HOUR.items():
            n = max(1, n + rng.choice([-1, 0, 0, 1]) - scripted.get(hour, 0))
            for ts in sorted(self.random_time(1, hour) for _ in range(n)):
                self.crisis_post(ts)
                self.posts.sort(key=lambda p: p["_ts"])  # RTs may only quote earlier posts


def platform_mentions(text: str, source: str) -> str:
    """@lumitoys is the Twitter handle; on Bluesky the brand is @lumitoys.com and on
    Mastodon (no brand account) people write the name or a hashtag instead."""
    if source == "bluesky":
        return re.sub(r"@lumitoys\b", "@lumitoys.com", text)
    if source == "mastodon":
        text = re.sub(r" @lumitoys$", " #lumitoys", text)
        return re.sub(r"@lumitoys\b", "Lumi Toys", text)
    return text


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --------------------------------------------------------------------------
# Output, summary, checks
# --------------------------------------------------------------------------
KEYS = ["source", "external_id", "created_at", "author", "author_followers", "url", "lang", "text"]


def write(posts: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for p in posts:
            fh.write(json.dumps({k: p[k] for k in KEYS}, ensure_ascii=False) + "\n")


def check_and_summarise(posts: list[dict], path: Path) -> None:
    # Re-read the file: every line parses, keys exact, sorted, ids unique per source.
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(posts)
    assert all(list(r) == KEYS for r in records), "keys"
    stamps = [r["created_at"] for r in records]
    assert stamps == sorted(stamps), "not sorted by created_at"
    assert stamps[0] >= "2026-10-29T00:00:00Z" and stamps[-1] < "2026-10-31T00:00:00Z"
    seen = Counter((r["source"], r["external_id"]) for r in records)
    assert max(seen.values()) == 1, "duplicate external_id"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    assert all(r["url"].startswith("https://") and r["lang"] == "en" for r in records)
    assert all(isinstance(r["author_followers"], int) for r in records)

    # Content checks.
    for p in posts:
        t = p["text"]
        assert BRAND_RE.search(t), f"no brand keyword: {t}"
        assert len(t) <= MAX_LEN.get(p["source"], 10_000), f"too long for {p['source']}: {t}"
        assert "{" not in t and "}" not in t, f"unfilled slot: {t}"
        if p["_kind"] in ("background", "job"):
            assert not CRISIS_WORDS_RE.search(t), f"crisis-ish word in background: {t}"
        if p["_kind"] == "job":
            assert re.search(r"\bhiring\b", t, re.IGNORECASE)
        else:
            assert not JOB_RE.search(t), f"job word outside a job ad: {t}"
    slang = sorted(p["_ts"] for p in posts if p["_kind"] == "slang")
    assert all((b - a).total_seconds() > 2 * 3600 for a, b in itertools.pairwise(slang))
    crisis = [p for p in posts if p["_kind"] == "crisis"]
    assert len({(p["source"], p["author"]) for p in crisis}) == len(crisis), "crisis authors"
    assert min(p["_ts"] for p in crisis) == CRISIS_START
    n_bg_templates = sum(map(len, (PG_PRAISE, OTHER_PRAISE, SHIPPING, COMPLAINTS, GIVEAWAY,
                                   RETAILER, COSTUMES, TRUSTPILOT, APPSTORE, REDDIT, HACKERNEWS)))
    n_crisis_templates = 1 + sum(map(len, (CRISIS_REPORTS, CRISIS_WORRIED, CRISIS_RECALL,
                                           PSA_VARIANTS, RT_PREFIXES, REPORTERS, CRISIS_REDDIT,
                                           CRISIS_TRUSTPILOT, CRISIS_APPSTORE))) + 2
    assert n_bg_templates >= 80 and n_crisis_templates >= 40
    assert len(records) >= 900 and 100 <= len(crisis) <= 150

    # Summary.
    kinds = ["background", "job", "slang", "noise", "crisis"]
    print(f"wrote {len(records)} lines to {path}")
    print(f"templates: {n_bg_templates} background, {n_crisis_templates} crisis, "
          f"{len(JOB_ADS) + len(JOB_ADS_HN)} job, {len(SLANG_NOISE) + len(UNRELATED_NEGATIVE)} noise")
    print(f"distinct texts: {len({p['text'] for p in posts})}; "
          f"crisis distinct texts: {len({p['text'] for p in crisis})}")
    print("\nper kind:", dict(Counter(p["_kind"] for p in posts)))
    print("per source:", dict(Counter(p["source"] for p in posts)))
    print("crisis per source:", dict(Counter(p["source"] for p in crisis)))
    print("\nday         " + " ".join(f"{k:>10}" for k in kinds) + "      total")
    for day in sorted({p["created_at"][:10] for p in posts}):
        c = Counter(p["_kind"] for p in posts if p["created_at"].startswith(day))
        print(f"{day}  " + " ".join(f"{c[k]:>10}" for k in kinds) + f" {sum(c.values()):>10}")
    print("\nhour (UTC)         total  crisis  background+job+noise")
    for h in range(24 * DAYS):
        hour = (START + timedelta(hours=h)).strftime("%Y-%m-%dT%H")
        hp = [p for p in posts if p["created_at"].startswith(hour)]
        nc = sum(p["_kind"] == "crisis" for p in hp)
        print(f"{hour.replace('T', ' ')}:00  {len(hp):>6}  {nc:>6}  {len(hp) - nc:>6}  "
              + "#" * nc)
    first = min(crisis, key=lambda p: p["_ts"])
    print(f"\ncrisis start: {first['created_at']} ({first['source']}, @{first['author']}, "
          f"{first['author_followers']} followers)")
    print(f"first crisis post: {first['text']}")
    print("checks passed: valid JSON, exact keys, sorted, ids unique per source, brand keyword "
          "in every text, distinct crisis authors, slang noise > 2 h apart")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    args = parser.parse_args()
    stream = Stream(SEED)
    stream.build_background()
    stream.build_crisis()
    posts = sorted(stream.posts, key=lambda p: (p["_ts"], p["source"], p["external_id"]))
    write(posts, args.out)
    check_and_summarise(posts, args.out)


if __name__ == "__main__":
    main()
