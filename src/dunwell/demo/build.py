"""The demo company: Northwind Components GmbH with 18 months of realistic receivables history.

Everything is generated in Python from one seeded `random.Random` (each customer from its own
stream, so that one customer's history does not depend on another's) and written with
`bulk_create`; the stored balances are then computed once by `refresh_company`. Every reduction of
an open item is an allocation row dated on its business date (`effective_on`) and recorded at noon
UTC of that day, so that as-of reports on any past day are exact. The EUR payments of the last
30 days are the exception: they arrive as the bank's camt.053 statements, which the build
imports and matches through the cash services and workflows (`demo.bank`), so the demo has a
month of statements mostly applied and a small review queue.

Payment behaviours, one per customer:

- prompt: pays 0-5 days either side of the due date (2/10 net 30 customers mostly take the
  discount; some small ones pay by direct debit on the due date);
- late: habitually 15-45 days late;
- seasonal: late in summer and in Q4, otherwise nearly on time;
- disputing: some invoices partly credited after a dispute, some of those left unpaid for long;
- distressed: later and later, partial payments, the last months mostly unpaid.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Model, Sum

from dunwell.core.dates import Adjustment, add_months
from dunwell.core.models import Company, FxRate, Membership, Role
from dunwell.demo.bank import DAYS as BANK_DAYS
from dunwell.demo.bank import BankStats, Receipt, bank_month
from dunwell.demo.cycle import CycleStats, collections_month
from dunwell.ledger.models import (
    Activity,
    ActivityKind,
    Allocation,
    AllocationKind,
    Contact,
    ContactRole,
    Customer,
    CustomerKind,
    CustomerStatus,
    ItemKind,
    OpenItem,
    OpenItemLine,
    Payment,
    PaymentMethod,
    WriteOff,
)
from dunwell.ledger.models.customer import PreferredChannel
from dunwell.ledger.services.balances import refresh_company
from dunwell.ledger.services.documents import payment_reference_for
from dunwell.reports.kpi_snapshot import refresh_kpi_snapshot
from dunwell.reports.worklist import refresh_worklist
from dunwell.terms.models import PaymentTerm
from dunwell.terms.rules import due_dates
from dunwell.terms.rules.due_dates import Basis, Terms
from dunwell.terms.services import create_term, holidays_for
from dunwell.workflows.credit import credit_after_run

COMPANY_CODE = "northwind"
PASSWORD = "dunwell-demo"  # noqa: S105 - the published demo password
BATCH = 2000
SOURCE = "dunwell demo build"

USERS = (
    ("admin", Role.ADMIN, "Anna", "Admin"),
    ("credit", Role.CREDIT_MANAGER, "Clara", "Kredit"),
    ("collector", Role.COLLECTOR, "Jonas", "Becker"),
    ("viewer", Role.VIEWER, "Viktor", "Lang"),
)

Progress = Callable[[str], None]
T = TypeVar("T")


def _words(text: str) -> list[str]:
    return text.split()


@dataclass
class DemoStats:
    company: Company
    customers: int = 0
    contacts: int = 0
    invoices: int = 0
    credit_notes: int = 0
    payments: int = 0
    allocations: int = 0
    write_offs: int = 0
    activities: int = 0
    open_invoices: int = 0
    overdue_invoices: int = 0
    overdue_by_currency: dict[str, int] = field(default_factory=dict)
    open_by_currency: dict[str, int] = field(default_factory=dict)
    unapplied_by_currency: dict[str, int] = field(default_factory=dict)
    behaviours: dict[str, int] = field(default_factory=dict)
    cycle: CycleStats = field(default_factory=CycleStats)
    bank: BankStats = field(default_factory=BankStats)
    users_created: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- reference data -------------------------------------------------------------------------------

SURNAMES = {
    "DE": _words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter "
        "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
        "Werner Krause Meier Lehmann Köhler Herrmann"
    ),
    "AT": _words(
        "Gruber Huber Bauer Wagner Pichler Steiner Moser Mayer Hofer Leitner Berger Fuchs Eder "
        "Fischer Schmid Winkler Weber Schwarz Maier Reiter"
    ),
    "FR": _words(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier"
    ),
    "GB": _words(
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
        "Walker White Roberts Green Hall Wood Jackson Clarke"
    ),
    "CH": _words(
        "Müller Meier Schmid Keller Weber Huber Schneider Meyer Steiner Fischer Gerber Brunner "
        "Baumann Frei Zimmermann"
    ),
    "US": _words(
        "Miller Davis Anderson Taylor Moore Martin Thompson Harris Clark Lewis Walker Young "
        "Allen King Scott"
    ),
}
SURNAMES["NL"] = ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
                  "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
                  "Hendriks", "van Leeuwen", "Dekker"]  # fmt: skip
FIRST_NAMES = {
    "DE": _words(
        "Anna Lena Julia Sabine Petra Katrin Monika Laura Thomas Michael Stefan Andreas Frank "
        "Markus Tobias Jan Lukas Birgit Ralf Carsten"
    ),
    "AT": _words(
        "Eva Maria Claudia Sandra Lisa Manfred Wolfgang Gerhard Florian Johannes Andrea "
        "Christina Martin Stefan Barbara"
    ),
    "NL": _words(
        "Sanne Emma Lotte Femke Anouk Daan Bram Sem Ruben Joost Pieter Marieke Wouter Inge Thijs"
    ),
    "FR": _words(
        "Camille Léa Manon Chloé Julie Nathalie Pierre Nicolas Julien Antoine Sébastien "
        "Isabelle Céline Mathieu Hélène"
    ),
    "GB": _words(
        "Olivia Amelia Emily Sophie Charlotte Jack Harry Oliver George James Thomas Claire "
        "Rachel Daniel Helen"
    ),
    "CH": _words("Nina Sarah Corinne Andrea Reto Urs Beat Lukas Simon Monika Ursula Daniel"),
    "US": _words(
        "Emily Jessica Ashley Megan Michael Chris Matthew Brian Kevin Jennifer Ryan Amanda"
    ),
}
INDUSTRIES = {
    "DE": _words(
        "Maschinenbau Antriebstechnik Elektrotechnik Fördertechnik Automation Hydraulik "
        "Werkzeugbau Anlagenbau Kunststofftechnik Metallbau Präzisionsteile Industriebedarf "
        "Lagertechnik Verpackungstechnik Pumpenbau"
    ),
    "AT": _words(
        "Maschinenbau Stahlbau Elektrotechnik Anlagenbau Industrietechnik Metallwaren "
        "Fördertechnik Automation"
    ),
    "NL": _words(
        "Techniek Machinebouw Industrie Aandrijvingen Installaties Hydrauliek Metaalbewerking "
        "Automatisering"
    ),
    "FR": _words(
        "Industrie Mécanique Équipements Automatismes Hydraulique Électricité Composants "
        "Maintenance"
    ),
    "GB": _words(
        "Engineering Industrial Supplies Automation Controls Fabrications Drives Components "
        "Hydraulics"
    ),
    "CH": _words("Maschinenbau Präzisionstechnik Automation Antriebe Industrietechnik"),
    "US": _words("Industrial Machinery Automation Components Manufacturing"),
}
LEGAL_FORM = {
    "DE": ["GmbH", "GmbH", "GmbH & Co. KG", "AG", "KG"],
    "AT": ["GmbH", "GmbH", "AG", "KG"],
    "NL": ["B.V.", "B.V.", "N.V."],
    "FR": ["SAS", "SARL", "SA"],
    "GB": ["Ltd", "Ltd", "plc", "LLP"],
    "CH": ["AG", "GmbH"],
    "US": ["Inc.", "LLC", "Corp."],
}
CITIES = {
    "DE": [("Stuttgart", "70173"), ("München", "80331"), ("Hamburg", "20095"), ("Köln", "50667"),
           ("Frankfurt am Main", "60311"), ("Düsseldorf", "40213"), ("Dortmund", "44135"),
           ("Leipzig", "04109"), ("Nürnberg", "90403"), ("Hannover", "30159"), ("Bremen", "28195"),
           ("Bielefeld", "33602"), ("Augsburg", "86150"), ("Karlsruhe", "76133"),
           ("Mannheim", "68159"), ("Ulm", "89073"), ("Chemnitz", "09111"), ("Kassel", "34117")],
    "AT": [("Wien", "1010"), ("Graz", "8010"), ("Linz", "4020"), ("Salzburg", "5020"),
           ("Innsbruck", "6020"), ("Wels", "4600")],
    "NL": [("Amsterdam", "1012 AB"), ("Rotterdam", "3011 AD"), ("Eindhoven", "5611 AB"),
           ("Utrecht", "3511 AA"), ("Tilburg", "5038 AA"), ("Venlo", "5911 AA")],
    "FR": [("Lyon", "69002"), ("Paris", "75008"), ("Strasbourg", "67000"), ("Lille", "59000"),
           ("Toulouse", "31000"), ("Grenoble", "38000")],
    "GB": [("Birmingham", "B1 1AA"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 4AP"),
           ("Sheffield", "S1 2HE"), ("Bristol", "BS1 4DJ"), ("Coventry", "CV1 2GT")],
    "CH": [("Zürich", "8001"), ("Basel", "4051"), ("Winterthur", "8400"), ("St. Gallen", "9000")],
    "US": [("Chicago, IL", "60601"), ("Detroit, MI", "48226"), ("Columbus, OH", "43215")],
}  # fmt: skip
STREETS = {
    "DE": ["Industriestraße", "Hauptstraße", "Gewerbepark", "Am Hafen", "Siemensstraße",
           "Robert-Bosch-Straße", "Carl-Benz-Straße", "Daimlerstraße"],
    "AT": ["Industriezeile", "Gewerbestraße", "Hauptplatz", "Linzer Straße"],
    "NL": ["Industrieweg", "Havenstraat", "Kanaalweg", "Energieweg"],
    "FR": ["Rue de l'Industrie", "Avenue Jean Jaurès", "Zone Industrielle Nord", "Rue Pasteur"],
    "GB": ["Station Road", "Park Lane Industrial Estate", "Mill Street", "Enterprise Way"],
    "CH": ["Industriestrasse", "Bahnhofstrasse", "Seestrasse"],
    "US": ["Industrial Parkway", "Commerce Drive", "Main Street"],
}  # fmt: skip
PUBLIC_BODIES = [
    ("DE", "Stadtwerke Bielefeld GmbH"), ("DE", "Landeshauptstadt Stuttgart, Tiefbauamt"),
    ("DE", "Universitätsklinikum Ulm"), ("DE", "Hochschule Karlsruhe"),
    ("DE", "Wasserverband Kassel"), ("AT", "Stadt Graz, Wirtschaftsbetriebe"),
    ("NL", "Gemeente Eindhoven"), ("FR", "Métropole de Lyon"),
    ("GB", "Sheffield City Council"), ("DE", "Kreiskrankenhaus Augsburg"),
]  # fmt: skip
SOLE_TRADER_TRADES = {
    "DE": ["Elektro", "Sanitär", "Schlosserei", "Kfz-Werkstatt", "Metallbau"],
    "AT": ["Elektro", "Installateur", "Schlosserei"],
    "NL": ["Installatiebedrijf", "Loodgieter"],
    "FR": ["Électricité", "Serrurerie"],
    "GB": ["Electrical", "Plumbing"],
}
PRODUCTS = [
    ("Deep-groove ball bearing 6204-2RS", 4.80), ("Taper roller bearing 30206", 17.50),
    ("Linear guide rail LGR-20, 1 m", 86.00), ("Servo motor SM-400, 0.4 kW", 412.00),
    ("Planetary gearbox PG-60 i=10", 289.00), ("Hydraulic cylinder HC-50/300", 335.00),
    ("Proximity sensor M12 PNP", 23.40), ("Cable carrier chain 25x38, 1 m", 31.20),
    ("Pneumatic valve 5/2 G1/4", 48.90), ("Frequency inverter FI-2.2 kW", 540.00),
    ("Timing belt HTD 8M-1200", 39.50), ("Coupling jaw type RJ-38", 27.80),
    ("Spindle nut KGM 2505", 64.00), ("Control cabinet KS-800 assembly", 2480.00),
    ("Maintenance service (hour)", 95.00), ("Retrofit engineering (day)", 980.00),
    ("Conveyor roller 50x600", 18.60), ("Torque sensor TS-200 Nm", 1290.00),
]  # fmt: skip
SEGMENTS = (("Strategic", 0.10), ("Mid-market", 0.35), ("Small business", 0.55))
BEHAVIOURS = (
    ("prompt", 0.40),
    ("late", 0.25),
    ("seasonal", 0.12),
    ("disputing", 0.13),
    ("distressed", 0.10),
)
COUNTRIES = (("DE", 0.55), ("AT", 0.12), ("NL", 0.11), ("FR", 0.09), ("GB", 0.09), ("CH", 0.02),
             ("US", 0.02))  # fmt: skip
LANGUAGE = {"DE": "de", "AT": "de", "CH": "de", "NL": "nl", "FR": "fr", "GB": "en", "US": "en"}
IBAN_BBAN = {"DE": "n18", "AT": "n16", "NL": "a4n10", "FR": "n23", "GB": "a4n14", "CH": "n17"}
FX_START = {"USD": 1.08, "GBP": 0.85, "CHF": 0.95}


# -- small helpers --------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted: tuple[tuple[T, float], ...]) -> T:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _noon(day: date, at: datetime) -> datetime:
    """When a back-dated fact was recorded: noon UTC of its day, never after the build itself."""
    return min(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), at)


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _iban(rng: random.Random, country: str) -> str:
    spec = IBAN_BBAN.get(country)
    if spec is None:
        return ""
    bban = ""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    parts = [spec[:2], spec[2:]] if spec.startswith("a4") else [spec]
    for part in parts:
        count = int(part[1:])
        alphabet = letters if part[0] == "a" else "0123456789"
        bban += "".join(rng.choice(alphabet) for _ in range(count))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


def _vat_id(rng: random.Random, country: str) -> str:
    n = rng.randrange(10**8, 10**9)
    return {
        "DE": f"DE{n}",
        "AT": f"ATU{n % 10**8:08d}",
        "NL": f"NL{n}B01",
        "FR": f"FR{rng.randrange(10, 99)}{n}",
        "GB": f"GB{n}",
        "CH": f"CHE-{n // 10**6:03d}.{n // 1000 % 1000:03d}.{n % 1000:03d} MWST",
    }.get(country, "")


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e",
                           "É": "e", "ç": "c", "&": "", ".": "", ",": "", "'": ""})  # fmt: skip
    words = text.lower().translate(table).split()
    stop = {"gmbh", "co", "kg", "ag", "bv", "nv", "sas", "sarl", "sa", "ltd", "plc", "llp", "inc",
            "llc", "corp", "ek"}  # fmt: skip
    kept = [w for w in words if w not in stop] or words
    return "-".join(kept[:3])


def _email(first: str, last: str, domain: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e",
                           "ç": "c", "ï": "i", "ë": "e", "ô": "o"})  # fmt: skip
    local = f"{first}.{last}".lower().translate(table).replace(" ", "")
    return f"{local}@{domain}"


def _vat(net: int) -> int:
    return (net * 19 + 50) // 100


# -- generation -----------------------------------------------------------------------------------


@dataclass
class Inv:
    item: OpenItem
    customer_index: int
    open: int
    last_on: date
    ever_paid: bool = False


@dataclass
class Cust:
    index: int
    model: Customer
    behaviour: str
    segment: str
    term: PaymentTerm
    rule: Terms
    method: str
    payment_run: int | None  # weekday of the customer's payment run, None: pays invoice by invoice
    volume: float  # invoices per month
    starts: date
    vat: bool
    invoices: list[Inv] = field(default_factory=list)
    payments: int = 0
    iban: str = ""


@dataclass
class Plan:
    """Everything generated, before it is written."""

    items: list[OpenItem] = field(default_factory=list)
    lines: list[OpenItemLine] = field(default_factory=list)
    credit_notes: list[OpenItem] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    write_offs: list[WriteOff] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


def _company() -> Company:
    return Company.objects.create(
        code=COMPANY_CODE,
        legal_name="Northwind Components GmbH",
        country="DE",
        base_currency="EUR",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
        address="Industriestraße 12\n70565 Stuttgart",
        vat_id="DE811907980",
        time_zone="Europe/Berlin",
        holiday_country="DE",
        due_date_adjustment=Adjustment.FOLLOWING.value,
        governing_law="DE",
        default_language="de",
    )


def _terms(company: Company) -> dict[str, PaymentTerm]:
    return {
        "net30": create_term(company=company, code="net30", name="Net 30", days=30, is_default=True),
        "net14": create_term(company=company, code="net14", name="Net 14", days=14),
        "net60": create_term(company=company, code="net60", name="Net 60", days=60),
        "2-10-net30": create_term(
            company=company, code="2-10-net30", name="2/10 net 30", days=30,
            discount_percent="2", discount_days=10,
        ),
        "30-eom": create_term(
            company=company, code="30-eom", name="30 days EOM",
            basis=Basis.AFTER_END_OF_MONTH, days=30,
        ),
    }  # fmt: skip


def _users(company: Company) -> tuple[dict[str, Any], list[str]]:
    user_model = get_user_model()
    hashed = make_password(PASSWORD)  # one hash for all four: the slow part of creating a user
    users: dict[str, Any] = {}
    created: list[str] = []
    for username, role, first, last in USERS:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username,
                email=f"{username}@northwind-components.example",
                password=None,
                first_name=first,
                last_name=last,
                is_staff=True,
                is_superuser=role is Role.ADMIN,
            )
            user.password = hashed
            user.save(update_fields=["password"])
            created.append(username)
        Membership.objects.create(user=user, company=company, role=role.value)
        users[username] = user
    return users, created


def _customer_name(rng: random.Random, country: str, used: set[str]) -> str:
    for _ in range(50):
        surname = rng.choice(SURNAMES[country])
        industry = rng.choice(INDUSTRIES[country])
        form = rng.choice(LEGAL_FORM[country])
        if country == "FR":
            name = f"{industry} {surname} {form}"
        elif country in ("GB", "US"):
            name = f"{surname} {industry} {form}"
        elif rng.random() < 0.3:
            name = f"{surname} & {rng.choice(SURNAMES[country])} {industry} {form}"
        else:
            name = f"{surname} {industry} {form}"
        if name not in used:
            used.add(name)
            return name
    name = f"{surname} {industry} {len(used)} {form}"
    used.add(name)
    return name


def _customers(  # noqa: PLR0912, PLR0915 - one flat recipe per customer reads best
    company: Company,
    rng: random.Random,
    count: int,
    terms: dict[str, PaymentTerm],
    users: dict[str, Any],
    start: date,
    months: int,
) -> list[Cust]:
    adjustment = company.due_date_adjustment
    rules = {code: term.to_rule(adjustment) for code, term in terms.items()}
    used: set[str] = set()
    public = list(PUBLIC_BODIES)
    rng.shuffle(public)
    n_public = max(1, count // 40) if count >= 10 else 0
    n_sole = max(1, count // 25) if count >= 10 else 0
    n_branches = min(6, count // 50)
    customers: list[Cust] = []
    for i in range(count):
        crng = random.Random(f"{rng.random()}-customer-{i}")
        kind = CustomerKind.BUSINESS
        if i < n_public and public:
            country, name = public.pop()
            kind = CustomerKind.PUBLIC
            used.add(name)
        elif i < n_public + n_sole:
            country = crng.choice(list(SOLE_TRADER_TRADES))
            first = crng.choice(FIRST_NAMES[country])
            last = crng.choice(SURNAMES[country])
            suffix = {"DE": " e.K.", "AT": " e.U.", "NL": "", "FR": " EI", "GB": ""}[country]
            name = f"{crng.choice(SOLE_TRADER_TRADES[country])} {first} {last}{suffix}"
            kind = CustomerKind.CONSUMER
            used.add(name)
        else:
            country = _pick(crng, COUNTRIES)
            name = _customer_name(crng, country, used)
        segment = _pick(crng, SEGMENTS)
        if kind is CustomerKind.CONSUMER:
            segment = "Small business"
        elif kind is CustomerKind.PUBLIC:
            segment = crng.choice(["Strategic", "Mid-market"])
        behaviour = _pick(crng, BEHAVIOURS)
        if kind is CustomerKind.PUBLIC:
            behaviour = crng.choice(["late", "seasonal", "prompt"])  # slow but sure
        currency = {"GB": "GBP", "CH": "CHF", "US": "USD"}.get(country, "EUR")
        if currency == "GBP" and crng.random() < 0.25:
            currency = "EUR"
        if currency == "EUR" and country in ("NL", "FR") and crng.random() < 0.05:
            currency = "USD"
        term_code = {
            "Strategic": crng.choice(["net60", "net60", "net30", "30-eom", "2-10-net30"]),
            "Mid-market": crng.choice(["net30", "net30", "net30", "2-10-net30", "30-eom", "net60"]),
            "Small business": crng.choice(["net14", "net14", "net30", "net30", "2-10-net30"]),
        }[segment]
        if kind is CustomerKind.PUBLIC:
            term_code = "net30"
        volume = {"Strategic": 14.0, "Mid-market": 4.2, "Small business": 1.1}[segment]
        volume *= math.exp(crng.gauss(0, 0.35))
        starts = start
        if crng.random() < 0.15:
            starts = add_months(start, crng.randrange(1, max(2, months - 1)))
        method = PaymentMethod.TRANSFER.value
        if behaviour == "prompt" and segment == "Small business" and crng.random() < 0.3:
            method = PaymentMethod.DIRECT_DEBIT.value
        elif country == "FR" and crng.random() < 0.3:
            method = PaymentMethod.CHEQUE.value
        elif country == "US":
            method = crng.choice([PaymentMethod.TRANSFER.value, PaymentMethod.CHEQUE.value])
        elif crng.random() < 0.02:
            method = PaymentMethod.CARD.value
        payment_run = None
        if segment != "Small business" and method == PaymentMethod.TRANSFER.value:
            payment_run = crng.choice([1, 3, 4]) if crng.random() < 0.6 else None
        city, postal = crng.choice(CITIES[country])
        limit = {"Strategic": (250_000, 1_000_000), "Mid-market": (50_000, 150_000),
                 "Small business": (5_000, 25_000)}[segment]  # fmt: skip
        tags = []
        if kind is CustomerKind.PUBLIC:
            tags.append("public sector")
        if segment == "Strategic":
            tags.append("key account")
        owner = users["collector"] if crng.random() < 0.5 else users["credit"]
        if segment == "Strategic" and crng.random() < 0.6:
            owner = users["credit"]
        model = Customer(
            company=company,
            account_number=f"D{10001 + i}",
            legal_name=name,
            kind=kind.value,
            country=country,
            registration_id=f"HRB {crng.randrange(1000, 99999)}"
            if country == "DE" and kind is CustomerKind.BUSINESS
            else "",
            vat_id=_vat_id(crng, country) if kind is not CustomerKind.CONSUMER else "",
            street=f"{crng.choice(STREETS[country])} {crng.randrange(1, 180)}",
            postal_code=postal,
            city=city,
            payment_term=None if term_code == "net30" and crng.random() < 0.5 else terms[term_code],
            currency=currency,
            language=LANGUAGE[country],
            credit_limit_minor=crng.randrange(*limit) // 1000 * 1000 * 100,
            segment=segment,
            tags=tags,
            owner=owner,
            status=CustomerStatus.ON_HOLD.value
            if behaviour == "distressed" and crng.random() < 0.4
            else CustomerStatus.ACTIVE.value,
        )
        customers.append(
            Cust(
                index=i, model=model, behaviour=behaviour, segment=segment,
                term=terms[term_code], rule=rules[term_code], method=method,
                payment_run=payment_run, volume=volume, starts=starts,
                vat=country == "DE",
            )
        )  # fmt: skip
    # Head offices with branches billed to them: the branch's mail goes to the parent.
    heads = [
        c
        for c in customers
        if c.model.kind == CustomerKind.BUSINESS and c.segment != "Small business"
    ]
    for n in range(min(n_branches, len(heads))):
        head = heads[n]
        crng = random.Random(f"{rng.random()}-branch-{n}")
        country = head.model.country
        city, postal = crng.choice(CITIES[country])
        model = Customer(
            company=company,
            account_number=f"{head.model.account_number}-{n + 1:02d}",
            legal_name=f"{head.model.legal_name}, Niederlassung {city}"
            if LANGUAGE[country] == "de"
            else f"{head.model.legal_name}, {city} branch",
            kind=CustomerKind.BUSINESS.value,
            country=country,
            vat_id=head.model.vat_id,
            street=f"{crng.choice(STREETS[country])} {crng.randrange(1, 180)}",
            postal_code=postal,
            city=city,
            parent=head.model,
            billed_to_parent=True,
            payment_term=head.model.payment_term,
            currency=head.model.currency,
            language=head.model.language,
            segment=head.segment,
            tags=["branch"],
            owner=head.model.owner,
        )
        customers.append(
            Cust(
                index=len(customers), model=model, behaviour=head.behaviour, segment=head.segment,
                term=head.term, rule=head.rule, method=head.method, payment_run=head.payment_run,
                volume=head.volume / 3, starts=head.starts, vat=head.vat,
            )
        )  # fmt: skip
    return customers


def _contacts(company: Company, customers: list[Cust], rng: random.Random) -> list[Contact]:
    contacts = []
    roles = (ContactRole.AP_CLERK, ContactRole.AP_MANAGER, ContactRole.FINANCE_DIRECTOR)
    for cust in customers:
        crng = random.Random(f"{rng.random()}-contacts-{cust.index}")
        model = cust.model
        country = model.country
        domain = f"{_slug(model.legal_name)}.example"
        if model.kind == CustomerKind.CONSUMER:
            count = 1
        else:
            count = {"Strategic": 3, "Mid-market": crng.choice([2, 3]),
                     "Small business": crng.choice([1, 1, 2])}[cust.segment]  # fmt: skip
        names: set[str] = set()
        for n in range(count):
            first = crng.choice(FIRST_NAMES[country])
            last = crng.choice(SURNAMES[country])
            if f"{first} {last}" in names:
                continue
            names.add(f"{first} {last}")
            role = roles[n]
            if model.kind == CustomerKind.CONSUMER:
                role = ContactRole.OWNER
            contacts.append(
                Contact(
                    company=company,
                    customer=model,
                    name=f"{first} {last}",
                    role=role.value,
                    email=_email(first, last, domain),
                    phone=f"+{crng.randrange(30, 49)} {crng.randrange(100, 999)} "
                    f"{crng.randrange(100000, 9999999)}",
                    preferred_channel=PreferredChannel.LETTER.value
                    if model.kind == CustomerKind.PUBLIC and n == 0
                    else PreferredChannel.EMAIL.value,
                    receives_reminders=role in (ContactRole.AP_CLERK, ContactRole.OWNER),
                    receives_escalations=role is not ContactRole.AP_CLERK,
                    receives_statements=role is not ContactRole.FINANCE_DIRECTOR,
                )
            )
        if count > 0 and cust.segment != "Small business" and crng.random() < 0.3:
            contacts.append(
                Contact(
                    company=company,
                    customer=model,
                    name="Accounts payable",
                    role=ContactRole.OTHER.value,
                    email=f"ap@{domain}" if LANGUAGE[country] == "en" else f"rechnung@{domain}",
                    receives_reminders=True,
                    receives_escalations=False,
                )
            )
    return contacts


def _invoices(
    company: Company,
    cust: Cust,
    rng: random.Random,
    weekdays: list[date],
    holidays: frozenset[date],
) -> list[Inv]:
    crng = random.Random(f"{rng.random()}-invoices-{cust.index}")
    days = [d for d in weekdays if d >= cust.starts]
    if not days:
        return []
    active_months = len(days) / 21.7
    expected = cust.volume * active_months
    count = max(1, round(crng.gauss(expected, math.sqrt(expected))))
    median = {"Strategic": 7000.0, "Mid-market": 2200.0, "Small business": 550.0}[cust.segment]
    result = []
    for issued_on in sorted(crng.choice(days) for _ in range(count)):
        target = median * math.exp(crng.gauss(0, 0.9))
        lines = []
        n_lines = 1 if target < 800 or crng.random() < 0.5 else 2
        for seq in range(1, n_lines + 1):
            description, price = crng.choice(PRODUCTS)
            unit_minor = max(100, round(price * 100 * math.exp(crng.gauss(0, 0.08))))
            quantity = max(1, round(target / n_lines / (unit_minor / 100)))
            lines.append((seq, description, quantity, unit_minor, quantity * unit_minor))
        net = sum(line[4] for line in lines)
        tax = _vat(net) if cust.vat else 0
        gross = net + tax
        due_on = due_dates.due_on(cust.rule, issued_on, holidays)
        offer = due_dates.discount_offer(cust.rule, issued_on, gross)
        item = OpenItem(
            company=company,
            customer=cust.model,
            kind=ItemKind.INVOICE.value,
            number="",
            issued_on=issued_on,
            due_on=due_on,
            currency=cust.model.currency,
            amount_minor=gross,
            net_minor=net,
            tax_minor=tax,
            po_number=f"PO-{crng.randrange(100000, 999999)}" if crng.random() < 0.6 else "",
            payment_term=cust.term,
            discount_until=offer.until if offer else None,
            discount_minor=offer.amount_minor if offer else None,
            description=lines[0][1],
            source=SOURCE,
            open_minor=gross,
        )
        item.demo_lines = [  # type: ignore[attr-defined]
            OpenItemLine(
                company=company,
                item=item,
                sequence=seq,
                description=description,
                quantity=Decimal(quantity),
                unit_price=Decimal(unit_minor) / 100,
                net_minor=line_net,
                tax_rate=Decimal("19.0000") if cust.vat else Decimal("0.0000"),
            )
            for seq, description, quantity, unit_minor, line_net in lines
        ]
        result.append(Inv(item=item, customer_index=cust.index, open=gross, last_on=issued_on))
    return result


@dataclass
class Simulation:
    """The behaviour model: turns a customer's invoices into credit notes, payments, write-offs."""

    company: Company
    as_of: date
    start: date
    at: datetime
    credit_user: Any
    plan: Plan
    # (customer index, value date, group) -> [(invoice, amount)]
    receipts: dict[tuple[int, date, int], list[tuple[Inv, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    discounts: list[tuple[Inv, int, date]] = field(default_factory=list)
    group: int = 0

    def allocation(
        self, inv: OpenItem, kind: AllocationKind, amount: int, on: date, **extra: object
    ) -> Allocation:
        return Allocation(
            company=self.company,
            customer=inv.customer,
            currency=inv.currency,
            target=inv,
            kind=kind.value,
            amount_minor=amount,
            effective_on=on,
            recorded_at=_noon(on, self.at),
            target_due_on=inv.due_on,
            **extra,
        )

    def credit_note(
        self, inv: Inv, cust: Cust, on: date, gross: int, reason: str, apply: bool
    ) -> None:
        if gross <= 0 or on > self.as_of:
            return
        net = gross * 100 // 119 if cust.vat else gross
        note = OpenItem(
            company=self.company,
            customer=cust.model,
            kind=ItemKind.CREDIT_NOTE.value,
            number="",
            issued_on=on,
            due_on=on,
            currency=cust.model.currency,
            amount_minor=-gross,
            net_minor=-net,
            tax_minor=-(gross - net),
            payment_term=None,
            related=inv.item,
            description=reason,
            source=SOURCE,
            open_minor=-gross,
        )
        self.plan.credit_notes.append(note)
        if not apply:
            return
        self.plan.allocations.append(
            self.allocation(inv.item, AllocationKind.CREDIT, gross, on, counter_item=note)
        )
        self.plan.allocations.append(
            self.allocation(note, AllocationKind.CREDIT, -gross, on, counter_item=inv.item)
        )
        inv.open -= gross
        inv.last_on = max(inv.last_on, on)

    def pay(self, cust: Cust, inv: Inv, on: date, amount: int, *, in_run: bool = True) -> bool:
        """Receive `amount` for `inv` about `on` (a business day); False when after as_of."""
        on = max(_weekday_on_or_after(on), inv.item.issued_on + timedelta(days=1))
        in_run = in_run and cust.payment_run is not None
        if in_run and cust.payment_run is not None:
            on += timedelta(days=(cust.payment_run - on.weekday()) % 7)
        on = _weekday_on_or_after(on)
        if on > self.as_of or amount <= 0:
            return False
        if in_run:
            key = (cust.index, on, 0)
        else:
            self.group += 1
            key = (cust.index, on, self.group)
        self.receipts[key].append((inv, min(amount, inv.open)))
        inv.open -= min(amount, inv.open)
        inv.last_on = max(inv.last_on, on)
        inv.ever_paid = True
        return True

    def run(self, cust: Cust, rng: random.Random) -> None:  # noqa: PLR0912, PLR0915 - the model
        crng = random.Random(f"{rng.random()}-behaviour-{cust.index}")
        span = max(1, (self.as_of - self.start).days)
        for inv in cust.invoices:
            item = inv.item
            issued, due, gross = item.issued_on, item.due_on, item.amount_minor
            # Pricing corrections happen to everyone: a partial or full credit within days.
            if crng.random() < 0.012:
                share = 1.0 if crng.random() < 0.2 else crng.uniform(0.05, 0.3)
                on = _weekday_on_or_after(issued + timedelta(days=crng.randint(1, 12)))
                self.credit_note(
                    inv, cust, on, round(gross * share),
                    "Cancellation" if share == 1.0 else "Price correction",
                    apply=crng.random() > 0.06,
                )  # fmt: skip
            behaviour = cust.behaviour
            partial = None
            late_days: int
            if behaviour == "prompt":
                if (
                    item.discount_until is not None
                    and item.discount_minor
                    and inv.open == gross
                    and crng.random() < 0.75
                ):
                    on = _weekday_on_or_after(issued + timedelta(days=crng.randint(4, 9)))
                    if on <= item.discount_until and on <= self.as_of:
                        discount = item.discount_minor
                        if self.pay(cust, inv, on, gross - discount, in_run=False):
                            self.plan.allocations.append(
                                self.allocation(item, AllocationKind.DISCOUNT, discount, on)
                            )
                            inv.open -= discount
                        continue
                late_days = 0 if cust.method == "direct_debit" else crng.randint(-5, 5)
            elif behaviour == "late":
                late_days = round(crng.triangular(15, 45, 25))
            elif behaviour == "seasonal":
                if due.month in (7, 8, 10, 11, 12):
                    late_days = crng.randint(25, 60)
                else:
                    late_days = crng.randint(-2, 10)
            elif behaviour == "disputing":
                late_days = crng.randint(3, 20)
                if crng.random() < 0.18 and inv.open == gross:
                    on = _weekday_on_or_after(issued + timedelta(days=crng.randint(20, 70)))
                    reason = crng.choice(["Damaged goods", "Short delivery", "Price dispute",
                                          "Late delivery penalty", "Quality complaint"])  # fmt: skip
                    self.credit_note(
                        inv, cust, on, round(gross * crng.uniform(0.1, 0.4)), reason, apply=True
                    )
                    if crng.random() < 0.35 or on > self.as_of:
                        continue  # still disputed: left unpaid
                    late_days = max(late_days, (on - due).days + crng.randint(3, 15))
            else:  # distressed
                t = (issued - self.start).days / span
                late_days = round(10 + 80 * t + crng.gauss(0, 8))
                last_months = (self.as_of - issued).days < 125
                if last_months and crng.random() < 0.75:
                    continue
                if crng.random() < (0.5 if last_months else 0.15):
                    partial = round(inv.open * crng.uniform(0.3, 0.7))
            if inv.open <= 0:
                continue
            # A few invoices everyone forgets about (lost in AP, no PO number): the long tail.
            if behaviour != "prompt" and crng.random() < 0.006:
                continue
            on = due + timedelta(days=late_days)
            amount = partial if partial else inv.open
            if not self.pay(cust, inv, on, amount):
                continue
            if partial and inv.open > 0 and crng.random() < 0.5:
                self.pay(cust, inv, on + timedelta(days=crng.randint(30, 75)), inv.open)

    def payments(self, customers: list[Cust], rng: random.Random) -> None:
        """One payment per (customer, value date, group); a few short (bank charges) or over."""
        prng = random.Random(f"{rng.random()}-payments")
        for (index, on, _group), lines in sorted(self.receipts.items(), key=lambda kv: kv[0]):
            cust = customers[index]
            total = sum(amount for _, amount in lines)
            extra = 0
            if prng.random() < 0.004:
                extra = prng.choice([1000, 5000, 10000, 25000, total // 10 or 100])
            if cust.model.currency != "EUR" and prng.random() < 0.2:
                charge = prng.randint(800, 2500)
                inv, amount = lines[-1]
                if amount > charge + 100:
                    lines[-1] = (inv, amount - charge)
                    inv.open += charge
                    total -= charge
            if total + extra <= 0:
                continue
            if len(lines) == 1:
                numbers = lines[0][0].item.number
                reference = prng.choice([
                    numbers, numbers, f"Rechnung {numbers}", lines[0][0].item.payment_reference,
                    f"{cust.model.account_number} {numbers}", "",
                ])  # fmt: skip
            else:
                numbers = " ".join(inv.item.number for inv, _ in lines)
                reference = (
                    numbers if prng.random() < 0.6 else f"Avis {prng.randrange(10000, 99999)}"
                )
            payment = Payment(
                company=self.company,
                customer=cust.model,
                external_id="",
                value_on=on,
                currency=cust.model.currency,
                amount_minor=total + extra,
                method=cust.method,
                reference=reference[:140],
                payer_name=(cust.model.parent or cust.model).legal_name[:140],
                payer_iban=cust.iban,
                source=SOURCE,
                unapplied_minor=total + extra,
            )
            self.plan.payments.append(payment)
            cust.payments += 1
            for inv, amount in lines:
                self.plan.allocations.append(
                    self.allocation(
                        inv.item, AllocationKind.PAYMENT, amount, on,
                        payment=payment, payment_amount_minor=amount,
                    )
                )  # fmt: skip

    def write_offs(self, customers: list[Cust], rng: random.Random) -> None:
        """Old small residues (bank charges, rounding, small disputes) written off."""
        wrng = random.Random(f"{rng.random()}-write-offs")
        for cust in customers:
            for inv in cust.invoices:
                small = inv.open <= 5000 and inv.ever_paid
                forgotten = (
                    inv.open <= 20000 and not inv.ever_paid and cust.behaviour == "disputing"
                )
                if inv.open <= 0 or not (small or forgotten):
                    continue
                on = _weekday_on_or_after(
                    max(inv.last_on, inv.item.due_on) + timedelta(days=wrng.randint(45, 150))
                )
                if on > self.as_of or wrng.random() < 0.25:
                    continue
                write_off = WriteOff(
                    company=self.company,
                    item=inv.item,
                    amount_minor=inv.open,
                    on=on,
                    reason="Bank charges deducted by payer" if small else "Small disputed balance",
                    created_by=self.credit_user,
                )
                self.plan.write_offs.append(write_off)
                self.plan.allocations.append(
                    self.allocation(
                        inv.item, AllocationKind.WRITE_OFF, inv.open, on,
                        write_off=write_off, recorded_by=self.credit_user,
                        note=write_off.reason,
                    )
                )  # fmt: skip
                inv.open = 0


def _to_the_bank(plan: Plan, custs: list[Cust], as_of: date) -> list[Receipt]:
    """The EUR payments of the last `bank.DAYS` days taken out of the plan, with their
    allocations and the early-payment discounts they took: they arrive as bank statements
    (`demo.bank`), and matching applies them."""
    first = as_of - timedelta(days=BANK_DAYS - 1)
    moved = [p for p in plan.payments if p.value_on >= first and p.currency == "EUR"]
    ids = {id(p) for p in moved}
    items: dict[int, list[tuple[OpenItem, int]]] = defaultdict(list)
    paid_on: set[tuple[int, date]] = set()
    for allocation in plan.allocations:
        payment = allocation.payment
        if payment is not None and id(payment) in ids:
            items[id(payment)].append((allocation.target, allocation.amount_minor))
            paid_on.add((id(allocation.target), allocation.effective_on))
    plan.allocations = [
        a for a in plan.allocations
        if not (a.payment is not None and id(a.payment) in ids)
        and not (a.kind == AllocationKind.DISCOUNT.value
                 and (id(a.target), a.effective_on) in paid_on)
    ]  # fmt: skip
    plan.payments = [p for p in plan.payments if id(p) not in ids]
    by_model = {id(c.model): c for c in custs}
    receipts = []
    for payment in moved:
        cust = by_model[id(payment.customer)]
        cust.payments -= 1
        receipts.append(Receipt(customer=cust.model, iban=cust.iban, method=payment.method,
                                value_on=payment.value_on, amount_minor=payment.amount_minor,
                                items=items[id(payment)]))  # fmt: skip
    return receipts


def _number_all(plan: Plan) -> None:
    """Document numbers in issue order, one sequence per year: NW-2025-000123, GS-2025-000012."""
    for items, prefix in ((plan.items, "NW"), (plan.credit_notes, "GS")):
        items.sort(key=lambda i: (i.issued_on, i.customer.account_number, i.amount_minor))
        counters: Counter[int] = Counter()
        for item in items:
            counters[item.issued_on.year] += 1
            item.number = f"{prefix}-{item.issued_on.year}-{counters[item.issued_on.year]:06d}"
            item.payment_reference = payment_reference_for(item.number)


def _fx_rates(as_of: date, start: date, rng: random.Random) -> list[FxRate]:
    frng = random.Random(f"{rng.random()}-fx")
    rates = []
    for quote, first in FX_START.items():
        level = first
        day = start
        while day <= as_of:
            if day.weekday() < 5:
                level *= math.exp(frng.gauss(0, 0.004))
                rates.append(
                    FxRate(on=day, base="EUR", quote=quote, rate=Decimal(f"{level:.6f}"),
                           source="demo (synthetic)")
                )  # fmt: skip
            day += timedelta(days=1)
    return rates


def _save(model: type[Model], rows: list[Any], progress: Progress, label: str) -> None:
    progress(f"saving {len(rows):,} {label}")
    model._default_manager.bulk_create(rows, batch_size=BATCH)


def build_demo(  # noqa: PLR0915 - the phases in order, each a few lines
    *,
    seed: int,
    customers: int,
    months: int,
    as_of: date,
    at: datetime,
    progress: Progress | None = None,
) -> DemoStats:
    """Create the demo company and its history in one transaction; the counts and totals."""
    started = time.perf_counter()
    say: Progress = progress or (lambda _message: None)
    rng = random.Random(seed)
    with transaction.atomic():
        say("company, payment terms and users")
        company = _company()
        terms = _terms(company)
        users, created = _users(company)
        start = add_months(as_of, -months)
        holidays = holidays_for(company, range(start.year, as_of.year + 3))
        weekdays = [
            start + timedelta(days=n)
            for n in range((as_of - start).days + 1)
            if (start + timedelta(days=n)).weekday() < 5
            and start + timedelta(days=n) not in holidays
        ]

        say(f"generating {customers} customers")
        custs = _customers(company, rng, customers, terms, users, start, months)
        for cust in custs:
            cust.iban = _iban(random.Random(f"{seed}-iban-{cust.index}"), cust.model.country)
        heads = [c.model for c in custs if c.model.parent is None]
        branches = [c.model for c in custs if c.model.parent is not None]
        Customer.objects.bulk_create(heads, batch_size=BATCH)
        Customer.objects.bulk_create(branches, batch_size=BATCH)
        contacts = _contacts(company, custs, rng)
        _save(Contact, contacts, say, "contacts")

        say("generating invoices")
        plan = Plan()
        for cust in custs:
            cust.invoices = _invoices(company, cust, rng, weekdays, holidays)
            for inv in cust.invoices:
                plan.items.append(inv.item)
                plan.lines.extend(inv.item.demo_lines)  # type: ignore[attr-defined]
        _number_all(Plan(items=plan.items))

        say("simulating payment behaviour")
        sim = Simulation(company, as_of, start, at, users["credit"], plan)
        for cust in custs:
            sim.run(cust, rng)
        sim.payments(custs, rng)
        sim.write_offs(custs, rng)
        receipts = _to_the_bank(plan, custs, as_of)
        _number_all(Plan(credit_notes=plan.credit_notes))
        for n, payment in enumerate(sorted(plan.payments, key=lambda p: p.value_on), start=1):
            payment.external_id = f"BANK-{payment.value_on.year}-{n:06d}"

        _save(OpenItem, plan.items, say, "invoices")
        _save(OpenItemLine, plan.lines, say, "invoice lines")
        _save(OpenItem, plan.credit_notes, say, "credit notes")
        _save(Payment, plan.payments, say, "payments")
        _save(WriteOff, plan.write_offs, say, "write-offs")
        _save(Allocation, plan.allocations, say, "allocations")

        say("recording history")
        invoices_of = Counter(inv.customer_index for c in custs for inv in c.invoices)
        for cust in custs:
            plan.activities.append(
                Activity(
                    company=company, customer=cust.model, kind=ActivityKind.IMPORTED.value,
                    on=as_of, recorded_at=at, actor_label="demo",
                    summary=f"demo history created: {invoices_of[cust.index]} invoices, "
                    f"{cust.payments} payments",
                    data={"source": SOURCE, "seed": seed},
                )
            )  # fmt: skip
        for payment in plan.payments:
            plan.activities.append(
                Activity(
                    company=company, customer=payment.customer, payment=payment,
                    kind=ActivityKind.PAYMENT_RECEIVED.value, on=payment.value_on,
                    recorded_at=_noon(payment.value_on, at), actor_label="bank statement",
                    summary=f"Payment {payment.external_id} received",
                    amount_minor=payment.amount_minor, currency=payment.currency,
                )
            )  # fmt: skip
        for note in plan.credit_notes:
            plan.activities.append(
                Activity(
                    company=company, customer=note.customer, item=note,
                    kind=ActivityKind.CREDIT_NOTE_ISSUED.value, on=note.issued_on,
                    recorded_at=_noon(note.issued_on, at), actor_label="demo",
                    summary=f"Credit note {note.number} issued for {note.related.number if note.related else ''}: "
                    f"{note.description}",
                    amount_minor=note.amount_minor, currency=note.currency,
                )
            )  # fmt: skip
        for write_off in plan.write_offs:
            plan.activities.append(
                Activity(
                    company=company, customer=write_off.item.customer, item=write_off.item,
                    kind=ActivityKind.WRITTEN_OFF.value, on=write_off.on,
                    recorded_at=_noon(write_off.on, at), actor=users["credit"],
                    actor_label="credit", summary=f"Written off: {write_off.reason}",
                    amount_minor=write_off.amount_minor, currency=write_off.item.currency,
                )
            )  # fmt: skip
        _save(Activity, plan.activities, say, "history entries")
        FxRate.objects.bulk_create(_fx_rates(as_of, start, rng), batch_size=BATCH,
                                   ignore_conflicts=True)  # fmt: skip

        say("computing balances")
        refresh_company(company)
        bank = bank_month(company, receipts, as_of, seed, at, say)
        cycle = collections_month(company, as_of, users, say)
        say("credit: risk scores, the policy's holds, reviews due")
        credit_after_run(company, as_of, at)
        say("the collectors' worklists")
        refresh_worklist(company=company, on=as_of, at=at)
        say("the overview's KPI trends")
        refresh_kpi_snapshot(company, as_of, at)
        stats = _stats(company, as_of, custs, created, plan)
        stats.cycle = cycle
        stats.bank = bank
    stats.seconds = time.perf_counter() - started
    return stats


def _stats(
    company: Company, as_of: date, custs: list[Cust], created: list[str], plan: Plan
) -> DemoStats:
    items = OpenItem.objects.filter(company=company)
    open_invoices = items.filter(kind=ItemKind.INVOICE.value).exclude(open_minor=0)
    overdue = open_invoices.filter(due_on__lt=as_of)
    return DemoStats(
        company=company,
        customers=len(custs),
        contacts=Contact.objects.filter(company=company).count(),
        invoices=len(plan.items),
        credit_notes=len(plan.credit_notes),
        payments=len(plan.payments),
        allocations=len(plan.allocations),
        write_offs=len(plan.write_offs),
        activities=Activity.objects.filter(company=company).count(),
        open_invoices=open_invoices.count(),
        overdue_invoices=overdue.count(),
        overdue_by_currency=dict(
            overdue.values_list("currency").annotate(total=Sum("open_minor")).order_by("currency")
        ),
        open_by_currency=dict(
            items.exclude(open_minor=0)
            .values_list("currency")
            .annotate(total=Sum("open_minor"))
            .order_by("currency")
        ),
        unapplied_by_currency=dict(
            Payment.objects.filter(company=company, unapplied_minor__gt=0)
            .values_list("currency")
            .annotate(total=Sum("unapplied_minor"))
            .order_by("currency")
        ),
        behaviours=dict(sorted(Counter(c.behaviour for c in custs).items())),
        users_created=created,
    )
