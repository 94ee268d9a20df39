"""The tables' columns: ``schemas.json`` (real names and choice values from microsoft/CDM under
CC-BY-4.0, see ``SCHEMAS_LICENCE.md``), the Delta and Arrow types of its column types, and the
vocabularies text columns draw their values from."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

SCHEMAS_FILE = Path(__file__).with_name("schemas.json")


def load_schemas() -> dict:
    """The tables of schemas.json, by name."""
    return json.loads(SCHEMAS_FILE.read_text())["tables"]


DELTA_TYPES = {"string": "string", "guid": "string", "int32": "integer", "int64": "long",
               "boolean": "boolean", "datetime": "timestamp", "decimal": "decimal(38,2)",
               "double": "double"}
ARROW_TYPES = {"string": pa.string(), "guid": pa.string(), "int32": pa.int32(), "int64": pa.int64(),
               "boolean": pa.bool_(), "datetime": pa.timestamp("us", tz="UTC"),
               "decimal": pa.decimal128(38, 2), "double": pa.float64()}


# ------------------------------------------------------------------------------ vocabularies
FIRST = ("Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Katrin Lukas Maria Nils Olga Paul "
         "Rosa Simon Tanja Uwe Vera Walter Yara Zoe Ahmed Bea Carlos Dana Eric Fatima Gabriel "
         "Hanna Ivan Julia Karim Lea Marco Nora Omar Petra").split()
LAST = ("Schmidt Meyer Novak Rossi Garcia Dubois Jansen Nielsen Kowalski Silva Berg Larsen Moreau "
        "Fischer Weber Bianchi Lopez Horvat Svoboda Virtanen Andersen Costa Keller Wagner Romano "
        "Martin Lambert Vos Peeters Olsen").split()
COMPANY_A = ("Contoso Fabrikam Northwind Tailspin Wingtip Adventure Litware Proseware Fourth "
             "Alpine Coho Woodgrove Lucerne Margie Trey Blue Yonder Humongous Wide").split()
COMPANY_B = ("Pharmaceuticals Logistics Retail Energy Bank Foods Systems Travel Insurance Motors "
             "Textiles Media Health Robotics Furniture Chemicals").split()
CITIES = ("Amsterdam Berlin Brussels Copenhagen Dublin Hamburg Lisbon Lyon Madrid Milan Munich "
          "Oslo Paris Prague Rotterdam Stockholm Vienna Warsaw Zurich Antwerp").split()
JOBS = ("Buyer;Purchasing Manager;CFO;IT Director;Office Manager;Sales Director;Engineer;"
        "Project Lead;CEO;Controller").split(";")
TOPICS = ("Fleet renewal;Cloud migration;Service contract;Spare parts;Office furniture;"
          "Annual licences;Training package;Warehouse robots;Support upgrade;New site fit-out;"
          "Marketing campaign;Data platform").split(";")
CASES = ("Cannot log in;Invoice incorrect;Delivery delayed;Device not starting;Refund request;"
         "Password reset;Order missing items;Firmware update failed;Billing address change;"
         "Warranty claim;App crashes on start;Slow performance").split(";")
MAIL = ("RE: Quote;Meeting follow-up;Order confirmation;Invoice;RE: Delivery date;Proposal;"
        "Case update;Welcome;RE: Contract renewal;Price list;FW: Specs;Reminder").split(";")
PRODUCTS = ("Desk chair;Monitor arm;Laptop stand;Docking station;Headset;Webcam;Keyboard;"
            "Standing desk;Cable kit;Printer toner").split(";")
USERS = [f"{f} {l}" for f, l in zip(FIRST[:24], LAST[:24])]  # the system users owning records


# Index into FIRST, LAST, and the person/email vocabularies, from one person number.
PERSON_PARTS = {"first": lambda p: p // len(LAST), "last": lambda p: p % len(LAST),
                "person": lambda p: p, "email": lambda p: p}


def vocabulary(kind: str) -> list[str]:
    """The value list of a text column kind (from schemas.json roles)."""
    if kind == "company":
        return [f"{a} {b}" for a in COMPANY_A for b in COMPANY_B]
    if kind == "person":
        return [f"{f} {l}" for f in FIRST for l in LAST]
    table = {"first": FIRST, "last": LAST, "city": CITIES, "job": JOBS, "topic": TOPICS,
             "case": CASES, "mail": MAIL, "product": PRODUCTS, "order": [f"Order {t}" for t in TOPICS],
             "item": [f"D{n:04d}" for n in range(1, 61)], "currency": ["EUR", "EUR", "EUR", "USD", "GBP"],
             "custaccount": [f"DE-{n:03d}" for n in range(1, 121)],
             "email": [f"{f.lower()}.{l.lower()}@example.com" for f in FIRST for l in LAST]}
    return table[kind]
