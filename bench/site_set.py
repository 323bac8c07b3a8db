"""Questions a visitor asks of a small product's help pages, each with the phrases an answer
must contain (or None: no page answers it, and the honest answer is the no-answer message).

Made-up help centres (bench/sites/): Tidyflow, a project-management SaaS, and Brewbox, a
coffee subscription, short Markdown pages of a few sections each, as a site owner uploads
them: the shape of document most widgets are fed, which the manuals of bench/answer_set.py
are not. Both sets were written before any rule was chosen on them; Tidyflow's was asked
first and chose the rules, Brewbox's is held out. Lumen, a bike shop's FAQ as one HTML page
(questions as headings), was asked while two rules for FAQ pages were written: it keeps
them working, it does not test them. Kestrel, a kettle maker's price list (three tables)
and care page, was written with its questions after every rule of the other sets, to see
tables read as a visitor asks of them; no rule was chosen on it.
"""

from __future__ import annotations

from typing import NamedTuple


class SiteQuestion(NamedTuple):
    text: str
    phrases: tuple[str, ...] | None  # None: the documents do not say


TIDYFLOW = (
    SiteQuestion("How much does the Team plan cost?", ("$12 per user per month",)),
    SiteQuestion("Is there a free plan?", ("free forever",)),
    SiteQuestion("Do you offer a discount for non-profits?", ("50% off",)),
    SiteQuestion("Can I get a refund if I cancel?", ("refund it in full",)),
    SiteQuestion("Do I need a credit card for the trial?", ("no credit card is needed",)),
    SiteQuestion("Do you support SSO?", ("single sign-on",)),
    SiteQuestion("How do I turn on 2FA?", ("settings > security",)),
    SiteQuestion("Can I use SMS for two-factor authentication?", ("sms codes are not supported",)),
    SiteQuestion("I lost my phone and can't log in, what do I do?", ("recovery codes",)),
    SiteQuestion("Where is my data stored?", ("frankfurt",)),
    SiteQuestion("Are you GDPR compliant?", ("gdpr compliant",)),
    SiteQuestion("What is the API rate limit?", ("100 requests per minute",)),
    SiteQuestion("What happens if I exceed the rate limit?", ("429",)),
    SiteQuestion("How do I get an API key?", ("settings > api tokens",)),
    SiteQuestion("Do API tokens expire?", ("expires after 90 days",)),
    SiteQuestion("How do I verify webhook requests?", ("hmac-sha256",)),
    SiteQuestion("Can I import from Trello?", ("trello",)),
    SiteQuestion("Does the Google Calendar sync work both ways?", ("one way",)),
    SiteQuestion("Is there an Android app?", ("android 10",)),
    SiteQuestion("Can I work offline?", ("offline mode",)),
    SiteQuestion("How long is an invite link valid?", ("7 days",)),
    SiteQuestion("Do guests count as paid users?", ("do not count as paid users",)),
    SiteQuestion("How much storage do I get on the Team plan?", ("100 gb",)),
    SiteQuestion("Which plan has audit logs?", ("business",)),
    SiteQuestion("Do you integrate with Jira?", None),
    SiteQuestion("Is there a Windows desktop app?", None),
    SiteQuestion("Can I pay with PayPal?", None),
    SiteQuestion("Do you have an office in London?", None),
)

BREWBOX = (
    SiteQuestion("How often can I get coffee delivered?", ("every two weeks",)),
    SiteQuestion("How much coffee is in a bag?", ("250 grams",)),
    SiteQuestion("How much does a bag cost?", ("£9.50",)),
    SiteQuestion("Is delivery free?", ("free on subscriptions",)),
    SiteQuestion(
        "Can I pause my subscription?", ("pause your subscription for up to three months",)
    ),
    SiteQuestion("Is there a minimum contract?", ("no minimum term",)),
    SiteQuestion("When do you roast?", ("every monday and thursday",)),
    SiteQuestion("Can I get ground coffee for a cafetière?", ("cafetière",)),
    SiteQuestion("Where do your beans come from?", ("colombia",)),
    SiteQuestion("How is your decaf made?", ("swiss water process",)),
    SiteQuestion("Should I keep coffee in the fridge?", ("do not store coffee in the fridge",)),
    SiteQuestion("How long does delivery take?", ("1 to 2 working days",)),
    SiteQuestion("Do you deliver to Germany?", ("germany",)),
    SiteQuestion("Do I need to be home for the delivery?", ("letterbox",)),
    SiteQuestion("My parcel never arrived, what should I do?", ("replacement",)),
    SiteQuestion("Can I return an opened bag?", ("cannot accept returns of opened bags",)),
    SiteQuestion("How long do gift cards last?", ("never expire",)),
    SiteQuestion("How do I log in without a password?", ("one-time link",)),
    SiteQuestion("What is your phone number?", ("0117 496 0000",)),
    SiteQuestion("Where is your roastery?", ("bristol",)),
    SiteQuestion("Do you sell coffee machines?", None),
    SiteQuestion("Do you deliver to the United States?", None),
    SiteQuestion("Can I pay with Bitcoin?", None),
    SiteQuestion("Do you offer oat milk?", None),
)

LUMEN = (
    SiteQuestion("How long does delivery take?", ("5 to 7 working days",)),
    SiteQuestion("Do the bikes come assembled?", ("90% assembled",)),
    SiteQuestion("Can I pick up my bike myself?", ("leeds workshop",)),
    SiteQuestion("What is the warranty on the frame?", ("lifetime warranty",)),
    SiteQuestion("What size do I need if I am 175 cm?", ("170 to 180 cm a medium",)),
    SiteQuestion("How far can the e-bike go?", ("80 km",)),
    SiteQuestion("How long does it take to charge?", ("4 hours",)),
    SiteQuestion("Can I return a bike I rode?", ("unridden",)),
    SiteQuestion("Do you have a shop in London?", None),
)

KESTREL = (
    SiteQuestion("How much is the Kestrel 9?", ("£89",)),
    SiteQuestion("What is the capacity of the Kestrel 7?", ("1.5 litres",)),
    SiteQuestion("How long is the warranty on the Kestrel 9?", ("5 years",)),
    SiteQuestion("How much does a limescale filter cost?", ("£6",)),
    SiteQuestion("Does the lid hinge fit the Kestrel 5?", ("kestrel 7 and kestrel 9",)),
    SiteQuestion("Is the shop open on Sunday?", ("closed",)),
    SiteQuestion("What time does the shop open on Saturday?", ("10:00",)),
    SiteQuestion("How much is delivery?", ("£4.50",)),
    SiteQuestion("How often should I descale the kettle?", ("every 60 days",)),
    SiteQuestion("How do I make a warranty claim?", ("support@kestrel.example",)),
    SiteQuestion("Do you sell teapots?", None),
    SiteQuestion("Can I pay in instalments?", None),
)


# Answerable questions in which the visitor names something of their own beside what they
# ask (a person, a shop, a town, where they heard of it): no page mentions those names, and
# the answer must not hang on them. Written on 2026-12-06 after the setting that refuses
# questions naming what no document mentions was built (off by default), before either
# setting was measured on them; each asks a fact its site's questions above ask too.
OWN_NAMES = {
    "tidyflow": (
        SiteQuestion(
            "My manager Priya invited me as a guest, do guests count as paid users?",
            ("do not count as paid users",),
        ),
        SiteQuestion(
            "We are moving our team over from Basecamp, how much does the Team plan cost?",
            ("$12 per user per month",),
        ),
    ),
    "brewbox": (
        SiteQuestion(
            "I am buying a bag as a present for my dad Gerald, how long does delivery take?",
            ("1 to 2 working days",),
        ),
        SiteQuestion(
            "My flatmate Tom says you roast on Fridays, when do you actually roast?",
            ("every monday and thursday",),
        ),
    ),
    "lumen": (
        SiteQuestion(
            "I tried one of your bikes at the Harrogate cycle show, how far can the e-bike go?",
            ("80 km",),
        ),
        SiteQuestion(
            "My son Oliver is 175 cm tall, what size does he need?", ("170 to 180 cm a medium",)
        ),
    ),
    "kestrel": (
        SiteQuestion("My Kestrel 9 came from Currys, how long is the warranty?", ("5 years",)),
        SiteQuestion("I live in Swindon, how much is delivery?", ("£4.50",)),
    ),
}
