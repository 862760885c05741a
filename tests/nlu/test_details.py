"""What `recognise` reads beyond the intent: topic, act, rights, purposes, field, upset and
language_sure, and the question/complaint/recipient intents. One test per general rule;
the accuracy on whole sets is in tests/test_nlu.py."""

from __future__ import annotations

import pytest

from bot.nlu import recognise


@pytest.mark.parametrize(
    ("text", "intent", "topic"),
    [
        # asking how the company handles data is a question, also about "my" data...
        ("do you sell my data?", "question", "sharing"),
        ("sælger I mine data til andre firmaer", "question", "sharing"),
        # "andre firmaer" is other companies, not "ændre firma" typed without æ
        (
            "hej saelger i vores data videre til andre firmaer?? fik en mystisk mail",
            "question",
            "sharing",
        ),
        # a tag question needs no question mark
        ("og hvis vi er bagud m en faktura ryger vi så til inkasso el hvad", "question", "sharing"),
        ("k so who do u share it with then", "question", "sharing"),
        # the question form sits on the verb that names the topic ("sælger I")
        (
            "hej sælger i vores data videre til andre?? fik en mærkelig reklamemail",
            "question",
            "sharing",
        ),
        # a backstory, then the question: the question is what is asked
        (
            "My niece says your website puts cookies from Facebook on my computer, and I "
            "don't want Facebook to know about my customers. What cookies and tracking do you use?",
            "question",
            "cookies",
        ),
        ("Hej. Hvor længe gemmer I de sms'er vi sender ud gennem jer?", "question", "retention"),
        (
            "Jeg overvejer at lukke vores konto, men hvad sker der så med alle vores fakturaer?",
            "question",
            "retention",
        ),
        ("hvor længe gemmer I mine sms'er?", "question", "retention"),
        ("Bruger I cookies til statistik?", "question", "cookies"),
        ("ligger jeres servere i danmark eller i udlandet", "question", "location"),
        # ...but asking for it, or about what was done with it, is the right
        ("can I get a copy of my data?", "access", None),
        ("what data do you have on me?", "access", None),
        ("who have you shared my data with?", "access", None),
        # a condition does not weaken the topic ("...if I log in with Google")
        ("Hvad får I at vide om mig, hvis jeg logger ind med Google?", "question", "google_login"),
        # a general question about automated decisions is no request for a review
        ("Do you make automated decisions about customers?", "question", "automated_decisions"),
        (
            "my account was blocked automatically, I want a person to look at it",
            "human_review",
            None,
        ),
        # how long a request takes in general is a question; "this" is a dialog act
        ("How long does a deletion request take?", "question", "deadline"),
        ("how long will this take?", "status", None),
        # rejecting cookies is an objection, asking about them a question
        ("Hvordan afviser jeg alle cookies undtagen de nødvendige?", "objection", None),
        ("do you have the facebook pixel on your site?", "question", "cookies"),
        # product questions stay product questions
        ("kan i sende sms til udlandet", "other", None),
        ("hvordan tilføjer jeg en bruger til vores firmakonto", "other", None),
    ],
)
def test_questions_about_the_policy(text: str, intent: str, topic: str | None) -> None:
    result = recognise(text)
    assert (result.intent, result.topic) == (intent, topic)
    if intent == "question":
        assert result.rights == ()  # a question never asks for a right


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        (
            "Jeg vil gerne vide præcist hvilke personoplysninger I indsamler om mig, og hvad de "
            "bliver brugt til.",
            ("collected", "purposes"),
        ),
        (
            "I want to know who is the responsible company for my data, and where I can write "
            "if I have a question about privacy?",
            ("controller", "contact"),
        ),
        (
            "We require for our supplier file the legal entity acting as data controller and "
            "the lawful basis for processing our account data.",
            ("controller", "legal_basis"),
        ),
    ],
)
def test_every_topic_of_a_question_put_inside_a_sentence(text: str, topics: tuple[str]) -> None:
    assert recognise(text).topics == topics


def test_what_is_registered_is_what_is_collected() -> None:
    # "i Aarhus og bruger jeres system til": the preposition "i", not "I" (you)
    text = "Jeg har et bageri i Aarhus og bruger jeres system til sms. Hvad registrerer I om mig?"
    assert recognise(text).topics == ("collected",)


@pytest.mark.parametrize(
    ("text", "intent", "topic"),
    [
        ("jeg vil klage", "complaint", None),
        ("I want to make a formal complaint about how you handled my data.", "complaint", None),
        ("how do I complain to the Danish data protection authority", "complaint", "complaint"),
        ("hvordan klager jeg til datatilsynet over jer", "complaint", "complaint"),
        # a support call about an invoice is the story; the content of an SMS is personal data
        (
            "Jeg er utilfreds. En supportmedarbejder ringede om en faktura og nævnte indholdet "
            "af en sms vi havde sendt. Jeg vil klage over det her.",
            "complaint",
            None,
        ),
        # a declared complaint is the point of a message that also tells the story
        (
            "Jeg har ventet over en måned på svar. Det er ikke i overensstemmelse med GDPR, "
            "og jeg vil klage.",
            "complaint",
            None,
        ),
        # asking where one could complain, without a grievance, is a question
        ("Where would a customer go with a privacy complaint about you?", "question", "complaint"),
        # a complaint named as a request, a reason or about the product is not one
        ("har I behandlet min klage?", "status", None),
        ("jeg vil trække min klage tilbage", "cancel", None),
        ("frys mine data mens klagen behandles", "restriction", None),
        ("jeg vil klage over at jeres service har været nede hele dagen", "other", None),
    ],
)
def test_complaints(text: str, intent: str, topic: str | None) -> None:
    result = recognise(text)
    assert (result.intent, result.topic) == (intent, topic)


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        (
            "I got a text message sent through your gateway from a shop I never signed up "
            "with. Delete my phone number",
            ("erasure",),
        ),
        (
            "hvem fanden har givet jer mit nummer?? faar sms'er jeg aldrig har bedt om. det "
            "skal stoppe",
            ("access", "objection"),
        ),
        # where they got my number is what an access request asks (the source)
        (
            "jeg har fået en sms fra en butik via jer og vil vide hvor de har mit nummer fra",
            ("access",),
        ),
        ("hvem står bag den sms jeg fik via gatewayapi i går", ()),
        ("Stop med at sende mig sms'er!", ("objection",)),
        ("Slet mit nummer. Jeg har aldrig tilmeldt mig noget.", ("erasure",)),
    ],
)
def test_recipients_of_messages_sent_through_the_gateway(text: str, rights: tuple[str]) -> None:
    result = recognise(text)
    assert (result.intent, result.rights) == ("recipient", rights)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a former customer, or the company's own marketing, is no recipient
        ("I'm not a customer anymore, delete my info", "erasure"),
        (
            "I keep getting offers by sms from you although I never agreed. It has to stop.",
            "objection",
        ),
        ("DELETE MY ACCOUNT NOW. I never signed up for this", "erasure"),
    ],
)
def test_account_holders_are_not_recipients(text: str, intent: str) -> None:
    assert recognise(text).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "jep",
        "jaja",
        "yep",
        "go ahead",
        "sure",
        "ok do it",
        "👍",
        "ja tak gerne",
        "det passer",
        "that's right",
        "correct",
        "jaaaa det må I gerne",
        "det er fint med mig",
        "Ja, slet den venligst",
    ],
)
def test_yes_forms(text: str) -> None:
    assert recognise(text).act == "yes"


@pytest.mark.parametrize(
    "text",
    [
        "ja, men nej",
        "yes but don't delete anything",
        "jeg vil gerne tale med nogen",  # "gerne" inside a sentence is no answer
        "is it ok if I send you my email?",
        "Can you confirm whether my opt-out has gone through?",
    ],
)
def test_no_yes_where_anything_negates_or_it_is_not_an_answer(text: str) -> None:
    assert recognise(text).act != "yes"


@pytest.mark.parametrize(
    ("text", "act", "intent"),
    [
        ("nej tak", "no", "other"),
        ("nope", "no", "other"),
        ("no, don't do that", "no", None),
        ("lad være med det", "no", None),
        ("tak for hjælpen", "thanks", "greeting"),
        ("cheers mate", "thanks", "greeting"),
        ("sounds good, thanks", "thanks", "greeting"),
        # an "ok" that closes one sentence and thanks in the next: thanks
        ("Okay, det er fint. Tak for svaret", "thanks", "greeting"),
        ("Right, that makes more sense. Cheers.", "thanks", "greeting"),
        ("ta", "thanks", "greeting"),
        ("ja tak", "yes", "other"),
        # the yes said first counts, wherever the matcher found it
        ("Yes, that is right, thank you", "yes", "other"),
        ("thanks, bye for now", "bye", "greeting"),
        ("hej hej", "bye", "greeting"),
        ("ok great", "yes", "greeting"),  # a weak yes does not turn a greeting into a reply
        ("I haven't received anything, maybe it's under ben@example.com", "no_code", "other"),
        ("der kom ingen kode", "no_code", "other"),
        ("har tjekket spam, ingen kode", "no_code", "other"),
        ("how long will this take?", "how_long", "status"),
        ("hvornår er det færdigt?", "how_long", "status"),
        ("what happens now?", "what_next", "status"),
        ("hvad så nu?", "what_next", "status"),
        ("tell me more", "more", "other"),
        ("kan du uddybe det?", "more", "other"),
    ],
)
def test_dialog_acts(text: str, act: str, intent: str | None) -> None:
    result = recognise(text)
    assert result.act == act
    if intent is not None:
        assert result.intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # courtesy words beside a request are politeness, not the act of the message
        ("kundeservice tak", "handover"),
        ("ok thanks, and when will my data be deleted?", "status"),
        # "no" before a noun, "not receive" in a wish: neither a no nor a missing code
        ("no more newsletters please", "objection"),
        ("jeg vil ikke modtage jeres sms tilbud", "objection"),
        ("min gamle mail virker ikke, brug min nye", "rectification"),
        # how long data is kept is a question, not "how long will this take"
        ("how long do you keep the SMS we send?", "question"),
    ],
)
def test_no_act_where_the_message_asks_for_something_else(text: str, intent: str) -> None:
    result = recognise(text)
    assert (result.intent, result.act) == (intent, None)


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        (
            "ret vores tlf nr til 22 33 44 55 og sluk for jeres tracking",
            ("rectification", "objection"),
        ),
        # "inden I sletter" is when, not what; ", så jeg har dem" is what the copy is for
        (
            "Inden I sletter noget, vil jeg gerne have en kopi af mine oplysninger, så jeg har "
            "dem til regnskabet. Og bagefter skal kontoen lukkes.",
            ("access", "erasure"),
        ),
        (
            "I should like to receive all of the information you hold on my account in a file "
            "that his computer can read, and once that is done, please close my account.",
            ("portability", "erasure"),
        ),
        # "alt det digitale" is all things digital, not a digital format
        (
            "nu skal alt det digitale ryddes op. Jeg vil gerne FØRST have en kopi af alt, hvad "
            "I har om os, og BAGEFTER skal I lukke kontoen og slette det hele.",
            ("access", "erasure"),
        ),
        # "for our files" is why a copy is wanted, not a file format
        ("I'd like a full copy of everything you hold on me, for our files.", ("access",)),
        ("copy first, then delete", ("access", "erasure")),
        ("delete my acc + send me a copy of my data first", ("erasure", "access")),
        (
            "Please change my email to a@b.dk, stop the newsletter, send me a copy of my data "
            "and then delete my old phone number",
            ("rectification", "objection", "access", "erasure"),
        ),
        ("slet min konto men send mig lige en kopi af mine data først", ("erasure", "access")),
        (
            "update my phone nr and also no more marketing emails pls",
            ("rectification", "objection"),
        ),
        # one request, however it is worded
        ("Please delete my account", ("erasure",)),
        # a reason, a ground or an account of what happened asks for nothing
        ("jeg har flyttet til en konkurrent, så i kan slette min konto", ("erasure",)),
        ("I think my data is wrong, so stop processing until you've checked", ("restriction",)),
        (
            "Jeres system har lukket min konto fordi den mente jeg sendte spam. Jeg vil have at "
            "et menneske ser på det.",
            ("human_review",),
        ),
        ("I'm 72 and I don't understand computers. Stop sending me offers.", ("objection",)),
        # data in a format is portability, which includes seeing it
        ("before you delete my account, send me my data as a csv file", ("portability",)),
        # a negated right is not asked for
        ("don't delete anything, just change my email", ("rectification",)),
    ],
)
def test_every_right_asked_for_in_order(text: str, rights: tuple[str, ...]) -> None:
    result = recognise(text)
    assert result.rights == rights
    assert result.intent == rights[0]  # the first named is the intent


@pytest.mark.parametrize(
    ("text", "intent", "act"),
    [
        # "begrænse brugen af mine oplysninger" restricts; "af mine" asks for no copy
        ("Kan I begrænse brugen af mine oplysninger et stykke tid?", "restriction", None),
        # "lyder" is no typo of a word for a person
        ("okay det lyder betryggende, tak", "greeting", "thanks"),
        # "ligger klar" is ready, not stored
        ("Hvor lang tid tager det typisk før eksporten ligger klar?", "status", "how_long"),
    ],
)
def test_plain_phrasings_are_read_with_confidence(text: str, intent: str, act: str | None) -> None:
    said = recognise(text)
    assert (said.intent, said.act) == (intent, act) and said.confidence >= 0.6


@pytest.mark.parametrize(
    ("text", "intent", "rights"),
    [
        # what came before "nej vent" is taken back
        (
            "Jeg har fået så mange mails, at jeg har lyst til at slette hele kontoen. Nej "
            "vent... det går ikke. Jeg vil egentlig bare af med jeres nyhedsbrev. Kan I fjerne "
            "mig fra det?",
            "objection",
            ("objection",),
        ),
        # taking back an earlier message is a cancel, read as before
        ("on second thought, don't delete it", "cancel", ()),
        # "we stop using the service" tells, it asks for no restriction
        (
            "We stop to use the SMS service. Before you delete, I want to have copy of all "
            "data. After this, please delete the account.",
            "access",
            ("access", "erasure"),
        ),
    ],
)
def test_what_a_message_takes_back_or_tells_asks_for_nothing(
    text: str, intent: str, rights: tuple[str, ...]
) -> None:
    said = recognise(text)
    assert (said.intent, said.rights) == (intent, rights)


@pytest.mark.parametrize(
    ("text", "intent", "rights"),
    [
        # two rights asked for in a letter: the n-gram guess does not overrule them
        (
            "Our client hereby requests that you (i) rectify the company name held on his "
            "account, which should now read Ben's Bikes & Repairs Ltd following a change of "
            "name, and (ii) cease processing his personal data for the purposes of profiling, "
            "pursuant to Article 21.",
            "rectification",
            ("rectification", "objection"),
        ),
        (
            "hej hvem har sendt sms til mig gennem jer?? vil se hvad i har paa mig",
            "recipient",
            ("access",),
        ),
        # an account "on hold" is what the decision did, not a wish to restrict
        (
            "my card payment got refused automatically and now acct says 'on hold' ?? want "
            "someone to actually review that automatic decision",
            "human_review",
            ("human_review",),
        ),
    ],
)
def test_what_is_asked_in_longer_messages(text: str, intent: str, rights: tuple[str, ...]) -> None:
    said = recognise(text)
    assert (said.intent, said.rights) == (intent, rights)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Hvilket behandlingsgrundlag henviser I til for kontaktoplysningerne?", "legal_basis"),
        ("hvad kører I af transportkryptering?", "security"),
        ("Under which GDPR article do you process account data?", "legal_basis"),
        ("who actually owns my data on here lol and where is it stored", "controller"),
        ("and whether you log our IPs on API calls?", "collected"),
        # thanks, then a request to be told: a question
        (
            "Thank you. Please also confirm the legal entity acting as controller and its "
            "company registration number.",
            "controller",
        ),
    ],
)
def test_more_ways_to_name_a_topic(text: str, topic: str) -> None:
    assert topic in recognise(text).topics


def test_a_dpo_writing_is_not_asking_for_ours() -> None:
    said = recognise("Jeg er ekstern databeskyttelsesrådgiver for Anna's Bageri ApS.")
    assert "contact" not in said.topics


def test_acronyms_are_no_shouting() -> None:
    said = recognise("vi kalder jeres REST API fra webshoppen. Forlader noget EU/EØS?")
    assert not said.upset


def test_a_full_legal_name_is_a_persons_name() -> None:
    said = recognise(
        "our supplier accounts should be in my full legal name. Could you change the contact "
        "name on the account from Ben Carter to Benjamin Carter?"
    )
    assert said.field == "name"


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        # a complaint that also wants something done asks for it
        (
            "Nu er jeg altså godt træt af jer. Jeg vil klage over det her, og jeg vil have at I "
            "stopper med de nyhedsmails NU.",
            ("objection",),
        ),
        (
            "I want to file a complaint about this, and I want my account deleted. Today.",
            ("erasure",),
        ),
        # wanting to know who the data was passed to is part of the complaint, no request
        (
            "I want to know who you've been passing my details to and I want to make a formal "
            "complaint.",
            (),
        ),
    ],
)
def test_a_complaint_names_what_else_it_wants(text: str, rights: tuple[str, ...]) -> None:
    said = recognise(text)
    assert (said.intent, said.rights) == ("complaint", rights)


def test_a_long_story_whose_parts_want_rights_asks_for_them() -> None:
    said = recognise(
        "After eight years I'm closing the shop at the end of the month. I used your service "
        "to text customers when their bikes were ready. Before I shut everything down I'd like "
        "a copy of all the data you hold on me, and then once I've got that, please delete "
        "the account and everything in it."
    )
    assert (said.intent, said.rights) == ("access", ("access", "erasure"))


def test_what_our_own_messages_were_about_is_no_objection() -> None:
    said = recognise(
        "I fredags skulle vi sende sms ud om vores påsketilbud, og så var kontoen spærret af "
        "systemet. Jeg vil have at et rigtigt menneske kigger på den afgørelse."
    )
    assert (said.intent, said.rights) == ("human_review", ("human_review",))


def test_a_livid_formal_complaint_is_a_complaint() -> None:
    said = recognise(
        "I'm absolutely livid. Your support people CC'd another company with our customer "
        "list attached! I want to make a formal complaint and I want to know where it goes."
    )
    assert said.intent == "complaint" and said.confidence >= 0.6


def test_waiting_with_a_deletion_asks_for_none() -> None:
    said = recognise("Nå, så venter jeg lige med at slette noget til efter årsafslutningen.")
    assert "erasure" not in (said.intent, *said.rights)


def test_no_rights_outside_requests() -> None:
    assert recognise("has my account been deleted yet?").rights == ()
    assert recognise("hej").rights == ()


@pytest.mark.parametrize(
    ("text", "purposes"),
    [
        (
            "stop everything. no emails no tracking no profiling. nothing.",
            ("marketing_email", "tracking", "profiling"),
        ),
        ("frameld mig ALT", ("marketing_email", "tracking", "profiling")),
        (
            "meld mig fra alt markedsføring, tracking, det hele",
            ("marketing_email", "tracking", "profiling"),
        ),
        ("unsubscribe me from just the newsletter", ("marketing_email",)),
        ("nyhedsbrev og tracking", ("marketing_email", "tracking")),
        ("no more retargeting ads pls", ("profiling",)),
        (
            "hold op med at spore mig og lave profiler på mig. Nyhedsbrevet må jeg godt "
            "blive ved med at få.",
            ("tracking", "profiling"),
        ),
        ("stop the tracking but I want to keep getting the newsletter", ("tracking",)),
        # a purpose named as kept stays on wherever else it is named
        (
            "Kan I opt-out'e kontoen fra jeres marketing-mails og fra profiling? Tracking må I "
            "gerne beholde, det er fair nok til jeres analytics.",
            ("marketing_email", "profiling"),
        ),
        (
            "I don't want the tracking and the profiling anymore, please turn it off. The "
            "newsletter I want to keep, den er fin.",
            ("tracking", "profiling"),
        ),
        (
            "I'd like you to stop tracking me and stop the profiling, please. The newsletter "
            "isn't an issue, I don't get it anyway.",
            ("tracking", "profiling"),
        ),
        # "leave everything else as it is" asks for no export
        (
            "I don't want to be tracked then, please switch that off for my account. Leave "
            "everything else as it is.",
            ("tracking",),
        ),
        # "enhver profilering" is any profiling; "på baggrund af sporing" what it is built on
        ("Jeg modsætter mig enhver profilering af mig på baggrund af sporing.", ("profiling",)),
        ("stop any tracking", ("tracking",)),
        # "all of it" after one kind: all of that kind
        ("ok whatever. stop tracking me then, fb linkedin all of it", ("tracking",)),
        # the policy's LinkedIn/Facebook tracking is what serves the retargeting
        ("no more retargeting ads on linkedin pls", ("tracking", "profiling")),
        ("Jeg vil ikke spores med jeres cookies og pixels.", ("tracking",)),
        # "everything" in the erasure beside it is not an objection purpose
        ("Stop tracking me with your pixels and delete everything you have on me.", ("tracking",)),
        # a short reply to "which purposes?"
        ("alt", ("marketing_email", "tracking", "profiling")),
        ("det hele", ("marketing_email", "tracking", "profiling")),
        ("kun nyhedsbrevet", ("marketing_email",)),
        # a purpose named as one to keep stays on
        ("stop nyhedsbrevet og profileringen, trackingen er ok", ("marketing_email", "profiling")),
        ("Stop the newsletter but keep the tracking", ("marketing_email",)),
        # "nothing else" limits to what was named; it is not "all of it"
        (
            "We get your marketing emails and offers. We want to stop only these, nothing else.",
            ("marketing_email",),
        ),
    ],
)
def test_objection_purposes(text: str, purposes: tuple[str, ...]) -> None:
    assert recognise(text).purposes == purposes


def test_no_purposes_without_an_objection() -> None:
    assert recognise("please delete everything about me").purposes == ()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("Please change the email address on my account", "email"),
        ("mit tlf nr er forkert, kan i rette det", "phone"),
        ("I need to update my mobile number, the old one doesn't work anymore.", "phone"),
        ("Vi har skiftet firmanavn. Kan I opdatere det på kontoen?", "company"),
        ("Mit navn er stavet forkert, det er Jørgen med ø.", "name"),
        ("We moved office – please update our address to Vestergade 12", "address"),
        ("Vil I ændre min e-mailadresse?", "email"),
        # a company's changed name is its company name
        ("berigtigelse af det registrerede firmanavn, da vi har skiftet navn", "company"),
        # the field next to the correcting word, not one named in passing
        ("My name is Anna and I want to change my email", "email"),
        # a short reply to "what should we correct?"
        ("mit telefonnummer", "phone"),
    ],
)
def test_correction_field(text: str, field: str) -> None:
    assert recognise(text).field == field


@pytest.mark.parametrize(
    "text",
    [
        "SLET MIN KONTO NU",
        "Please delete my account!!!",
        "det er en skandale",
        "jeg er træt af jer",
        "I am fed up with this",
        "hvorfor?!",
        "wtf hvad er gatewayapi for noget",
        "stop it 😡",
    ],
)
def test_upset(text: str) -> None:
    assert recognise(text).upset


@pytest.mark.parametrize(
    "text",
    [
        "Please delete my account",
        "Just out of curiosity, not that I'm unhappy: where can I complain?",
        "Which GDPR rights do I have for SMS and API data?",  # acronyms are no shouting
        "thanks!",
        "vi er flyttet!! ny adresse er Møllevej 12, 8000 Aarhus C",  # glad news, not anger
        "sorry typo!! its ben@bensbikes.co.uk",  # emphasis in an apology, not anger
        "tusind tak!!",
    ],
)
def test_calm(text: str) -> None:
    assert not recognise(text).upset


@pytest.mark.parametrize(
    ("text", "hint", "sure"),
    [
        ("yes", "da", False),
        ("ok", "da", False),
        ("thanks", "da", False),
        ("nej tak", "en", False),
        ("I want to delete my account", "da", True),
        ("Jeg vil gerne have slettet min konto", "en", True),
        ("tak for hjælpen", "en", True),  # æ, ø and å are Danish
        ("👍", "da", False),
    ],
)
def test_language_sure(text: str, hint: str, sure: bool) -> None:
    assert recognise(text, hint=hint).language_sure is sure


def test_an_address_keeps_the_boundary_after_it() -> None:
    # "a@b.dk," ends a request: the next one is read apart
    result = recognise("change my email to a@b.dk, stop the newsletter")
    assert result.rights == ("rectification", "objection")
    assert "b.dk" not in result.explanation


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # an English word one letter from a Danish pattern ("spring"/"sporing") is no typo
        ("We're a bike shop and in spring we send more texts", "other"),
        ("my risk score is wrong, please review it", "human_review"),  # "score"/"spore"
        # a typo still counts in its own language...
        ("unsubscibe me from the newsleter", "objection"),
        ("slett min kontoo", "erasure"),
    ],
)
def test_a_typo_counts_only_in_the_language_of_the_message(text: str, intent: str) -> None:
    result = recognise(text)
    assert result.intent == intent
    assert "objection" not in result.rights or intent == "objection"


def test_a_typo_of_either_language_counts_when_the_language_is_unclear() -> None:
    # one misspelt word: no evidence of the language but the typo itself
    assert recognise("sporring").intent == "objection"


@pytest.mark.parametrize(
    "text",
    [
        "we're a bike shop, not spammers",
        "vi er ikke spammere",
        "Vi er en cykelforretning, ikke spammere.",
        "this is not a newsletter, it's a service message",
    ],
)
def test_a_negated_noun_that_describes_asks_nothing(text: str) -> None:
    result = recognise(text)
    assert result.intent != "objection"
    assert (result.rights, result.purposes) == ((), ())


@pytest.mark.parametrize(
    "text",
    [
        "no spam",
        "ingen spam",
        "no more newsletters please",
        "ikke flere reklamer",
        "don't send me offers",
    ],
)
def test_a_negated_noun_that_refuses_asks_to_stop(text: str) -> None:
    result = recognise(text)
    assert (result.intent, result.rights) == ("objection", ("objection",))
    assert result.purposes == ("marketing_email",)


def test_a_description_inside_a_request_adds_no_right() -> None:
    result = recognise(
        "Our account was suspended automatically. We're a bike shop, not spammers! "
        "I want a person to look at it."
    )
    assert (result.intent, result.rights) == ("human_review", ("human_review",))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("we had just sent our newsletter out", None),
        ("We send maybe 300 texts", None),
        ("Vi havde lige sendt vores påsketilbud ud til de faste kunder", None),
        (
            "We had just sent our newsletter out to our regulars when the account was blocked. "
            "I want a human to look at it.",
            "human_review",
        ),
        (
            "Vi havde lige sendt vores påsketilbud ud til de faste kunder, da kontoen blev "
            "spærret. Jeg vil have et menneske til at se på det.",
            "human_review",
        ),
        (
            "We send maybe 300 texts a month to our customers, and I want to see what you "
            "store about me",
            "access",
        ),
    ],
)
def test_the_writers_own_sending_names_no_objection(text: str, intent: str | None) -> None:
    result = recognise(text)
    assert "objection" not in result.rights and result.purposes == ()
    assert result.intent == intent if intent else result.intent != "objection"


@pytest.mark.parametrize(
    "text",
    [
        # what was sent is the request, not the newsletter
        "I sent you a request to stop the newsletter",
        "jeg har sendt jer en mail om at stoppe nyhedsbrevet",
        # Danish "I" is "you": the company's sending is what is objected to
        "I sender mig reklamer hver dag, stop det",
    ],
)
def test_sending_by_others_still_objects(text: str) -> None:
    assert recognise(text).rights == ("objection",)


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        # messages ("beskeder", "texts") from a named sender, in the past tense, after a
        # time adverbial: a recipient, and what they ask is passed on
        (
            "Goddag. Jeg fik for nogle måneder siden nogle beskeder fra Annas Bageri på min "
            "mobiltelefon, selvom jeg aldrig har givet dem mit nummer. Jeg vil gerne have, at "
            "I sletter mit nummer.",
            ("erasure",),
        ),
        (
            "Hej. Jeg fik for et par måneder siden nogle SMS'er fra et bageri, jeg tror det gik "
            "gennem jeres system. Hvad ved I om mig?",
            ("access",),
        ),
        ("I received messages from Dr Hansen last week. Who gave you my number?", ("access",)),
        (
            "I got texts from the doctor's office, I never gave them my number. Delete it.",
            ("erasure",),
        ),
        (
            "Jeg modtog beskeder fra Brødrene Olsen. Jeg ønsker ikke at modtage flere.",
            ("objection",),
        ),
        # "stop", "get off the list": the messages are what a recipient wants stopped
        (
            "I keep getting reminders from a garage about a car that isn't mine. Can you make "
            "it stop?",
            ("objection",),
        ),
        (
            "En ejendomsmægler skriver til mig hele tiden via jeres system. Hvordan kommer jeg "
            "af den liste?",
            ("objection",),
        ),
        # words that describe the messages received ask for nothing
        ("Hvem har sendt mig den her sms? Der står bare 'Tilbud' som afsender.", ()),
    ],
)
def test_a_recipients_own_requests(text: str, rights: tuple[str, ...]) -> None:
    result = recognise(text)
    assert (result.intent, result.rights) == ("recipient", rights)


def test_deleting_my_number_from_your_system_may_be_either() -> None:
    # an account holder's erasure, or a recipient's: unsure, with both offered
    result = recognise("pls remove my number from ur system")
    assert result.intent == "erasure" and result.confidence < 0.6
    assert result.alternatives[0][0] == "recipient"
    assert recognise("remove my number from my account").confidence >= 0.6


@pytest.mark.parametrize(
    ("text", "rights", "purposes"),
    [
        (
            "Ret mailen og stop nyhedsbrevet, tak",
            ("rectification", "objection"),
            ("marketing_email",),
        ),
        (
            "Fix the email and stop the newsletter, please",
            ("rectification", "objection"),
            ("marketing_email",),
        ),
        # "sluk", "drop", "slå fra", "turn off" object to what they name
        (
            "ret min adresse og drop reklamerne",
            ("rectification", "objection"),
            ("marketing_email",),
        ),
        ("Ret mailen og sluk for jeres tracking", ("rectification", "objection"), ("tracking",)),
        (
            "please drop the newsletter and fix my name",
            ("objection", "rectification"),
            ("marketing_email",),
        ),
        (
            "change my phone number and turn off the tracking",
            ("rectification", "objection"),
            ("tracking",),
        ),
        # a story naming the newsletter first does not put the objection first: a right is
        # named where a word asks for it
        (
            "My work email is dead and meanwhile your newsletter keeps landing in my private "
            "inbox. Fix the email and stop the newsletter, please.",
            ("rectification", "objection"),
            ("marketing_email",),
        ),
        (
            "Arbejdsmailen virker ikke, og jeres nyhedsbrev kommer på min private mail. Ret "
            "mailen og stop nyhedsbrevet, tak.",
            ("rectification", "objection"),
            ("marketing_email",),
        ),
        # a purpose coordinated with "and" belongs to the objection, also as its own part
        (
            "Can you correct my email and also stop all the tracking and profiling stuff?",
            ("rectification", "objection"),
            ("tracking", "profiling"),
        ),
    ],
)
def test_several_requests_in_the_order_asked(
    text: str, rights: tuple[str, ...], purposes: tuple[str, ...]
) -> None:
    result = recognise(text)
    assert (result.intent, result.rights, result.purposes) == (rights[0], rights, purposes)


@pytest.mark.parametrize("text", ["drop det", "drop sagen"])
def test_drop_on_its_own_still_withdraws(text: str) -> None:
    assert recognise(text).intent == "cancel"


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        (
            "Hvem er den dataansvarlige virksomhed bag GatewayAPI (navn og CVR-nr.), og hvilket "
            "retsgrundlag behandler I vores kontaktoplysninger efter?",
            ("controller", "legal_basis"),
        ),
        (
            "Could you please confirm (1) the legal entity acting as controller, (2) your "
            "lawful basis",
            ("controller", "legal_basis"),
        ),
        (
            "where do you lot store ours? Is it in the US somewhere? And what do you actually "
            "do to keep it safe?",
            ("location", "security"),
        ),
        ("Sælger I mine data til andre, og bruger I cookies?", ("sharing", "cookies")),
        ("Who is your DPO and how long do you keep SMS logs?", ("contact", "retention")),
        (
            "do you read our messages? and is the traffic encrypted?",
            ("message_content", "security"),
        ),
    ],
)
def test_every_topic_asked_in_order(text: str, topics: tuple[str, ...]) -> None:
    result = recognise(text)
    assert (result.intent, result.topics, result.rights) == ("question", topics, ())
    assert result.topic in topics


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # a question put inside a sentence is a question; its frame ("I'd like to know",
        # "tell me", "oplyse") asks to see nothing
        ("I'd like to know whether you share data with third parties", "sharing"),
        ("Jeg vil gerne vide, om I sælger data", "sharing"),
        ("Kan I fortælle mig, hvor længe I gemmer data?", "retention"),
        ("Please explain what you use cookies for", "cookies"),
        ("Please tell me who your sub-processors are", "sharing"),
        ("Vil I venligst oplyse, hvilket retsgrundlag I behandler data efter?", "legal_basis"),
        ("Gider I fortælle mig, om I gemmer IP-adresser?", "collected"),
        (
            "Could you please confirm your lawful basis and send me a copy of the data "
            "processing agreement?",
            "legal_basis",
        ),
    ],
)
def test_a_question_framed_as_a_wish_asks_for_no_right(text: str, topic: str) -> None:
    result = recognise(text)
    assert (result.intent, result.rights) == ("question", ())
    assert topic in result.topics


@pytest.mark.parametrize(
    "text",
    [
        # about the writer's own data, the same frame is an access request
        "I want to know what data you have about me",
        "Jeg vil gerne vide hvilke oplysninger I har om mig",
        "Can you tell me what you know about me?",
        "kan i fortælle mig hvad i bruger mine oplysninger til",
    ],
)
def test_the_same_frame_about_my_data_is_access(text: str) -> None:
    assert recognise(text).rights == ("access",)


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        # a question's parts that ask politely or want are requests; the rest are not
        ("could you change my email, and btw where are your servers?", ("rectification",)),
        (
            "What do you log when I use the chat? I'd like to opt out of the newsletter too.",
            ("objection",),
        ),
        ("Do you sell data to third parties? And where are your servers?", ()),
        ("Hvor længe gemmer I data, og hvem deler I dem med?", ()),
    ],
)
def test_a_question_carries_only_the_requests_it_makes(text: str, rights: tuple[str, ...]) -> None:
    result = recognise(text)
    assert result.rights == rights
    assert result.topics


@pytest.mark.parametrize(
    ("text", "rights"),
    [
        # messages from businesses and a question about my number or data: a recipient
        (
            "I receive SMS messages from some companies and I want to know which companies "
            "have my phone number and what data they have about me.",
            ("access",),
        ),
        ("I got an SMS from a shop. What data do you have about me?", ("access",)),
    ],
)
def test_a_recipient_asking_about_their_number_or_data(text: str, rights: tuple[str, ...]) -> None:
    result = recognise(text)
    assert (result.intent, result.rights) == ("recipient", rights)


@pytest.mark.parametrize(
    ("text", "purposes"),
    [
        # marketing as what profiling or tracking is for is no purpose of its own
        (
            "I bruger profilering til markedsføring – det vil jeg gerne sige nej tak til.",
            ("profiling",),
        ),
        ("stop profiling me for marketing", ("profiling",)),
        ("stop using my data for marketing", ("marketing_email",)),
        ("no tracking and no marketing", ("marketing_email", "tracking")),
    ],
)
def test_a_purpose_that_serves_marketing(text: str, purposes: tuple[str, ...]) -> None:
    assert recognise(text).purposes == purposes


@pytest.mark.parametrize(
    "text",
    [
        "what happens to our invoices if we close the account?",
        "hvad sker der med vores fakturaer hvis vi lukker kontoen?",
        "hvis vi sletter kontoen, mister vi så vores fakturaer?",
    ],
)
def test_a_question_about_what_a_right_would_do_opens_nothing(text: str) -> None:
    result = recognise(text)
    assert (result.intent, result.topic, result.rights) == ("question", "retention", ())


@pytest.mark.parametrize(
    ("text", "intent", "rights"),
    [
        # wanting to know who/where about a policy subject asks; it requests no copy
        ("I want to know who is responsible for my data?", "question", ()),
        ("jeg vil gerne vide hvem der er dataansvarlig for mine data", "question", ()),
        ("I want to know what data you hold about me", "access", ("access",)),
        # "put a hold on" pauses; a colloquial "ik" negates like "ikke"
        ("Can you put a hold on using my personal data for now?", "restriction", ("restriction",)),
        (
            "et menneske skal se den automatiske spærring igennem, det var ik spam",
            "human_review",
            ("human_review",),
        ),
    ],
)
def test_asked_or_requested(text: str, intent: str, rights: tuple[str, ...]) -> None:
    result = recognise(text)
    assert (result.intent, result.rights) == (intent, rights)
