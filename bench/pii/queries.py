"""Write the PII benchmark's hand-made queries, reproducibly from templates and a seed.

    python bench/pii/queries.py     # rewrites bench/pii/data/pii_product_queries.txt, pii_positive.tsv

``pii_product_queries.txt``: one realistic product query with numbers per line (sizes, capacities,
counts, model and part numbers, SKUs, UPCs, ISBNs, and product phrases that look like streets); a
scrubber should change none of them. ``pii_positive.tsv``: kind, query, and the personal value the
query holds; a scrubber should replace that value by the kind's placeholder.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent / "data"
SEED = 11

BRANDS = ["samsung", "sandisk", "wd", "seagate", "crucial", "kingston", "lg", "sony", "tcl", "vizio", "ge",
          "whirlpool", "frigidaire", "bosch", "dewalt", "milwaukee", "makita", "anker", "logitech", "hp", "dell"]
PRODUCTS = ["tent", "stroller", "crib", "air fryer", "phone case", "rain jacket", "yoga mat", "coffee maker",
            "baby monitor", "running shoes", "backpack", "desk lamp", "water bottle", "office chair", "hoodie"]


def _digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice("0123456789") for _ in range(n - 1))


def product_queries(rng: random.Random) -> list[str]:
    r, d, b = rng.randint, lambda n: _digits(rng, n), lambda: rng.choice(BRANDS)
    templates = [
        lambda: f"{rng.choice([1, 2, 4, 5, 8, 10, 12, 14, 16, 18, 20])} tb {rng.choice(['hard drive', 'external hard drive', 'ssd', 'nas drive', 'portable drive'])}",
        lambda: f"{rng.choice([16, 32, 64, 128, 256, 512])} gb {rng.choice(['usb flash drive', 'micro sd card', 'thumb drive', 'sd card', 'ipad', 'ssd'])}",
        lambda: f"{b()} {rng.choice([250, 500, 970, 980, 990])} {rng.choice(['evo', 'pro', 'plus'])} {rng.choice([1, 2, 4])}tb",
        lambda: f"{rng.choice([5, 6, 8, 9, 10, 12])} ft {rng.choice(['circle rug', 'round rug', 'runner rug', 'christmas tree', 'hdmi cable', 'ladder'])}",
        lambda: f"{r(2, 12)}x{r(2, 14)} {rng.choice(['area rug', 'tarp', 'canvas print', 'picture frame', 'lumber'])}",
        lambda: f"{rng.choice([24, 32, 43, 50, 55, 65, 75, 85])} inch {rng.choice(['tv', 'smart tv', 'monitor', 'tv stand', 'tv wall mount'])}",
        lambda: f"size {rng.choice(['5', '6', '7', '8', '9', '10', '11', '12', '13', '10.5', '9.5'])} {rng.choice(['running shoes', 'boots', 'sandals', 'slippers'])}",
        lambda: f"{rng.choice([3, 6, 8])} quart {rng.choice(['instant pot', 'slow cooker', 'air fryer', 'dutch oven'])}",
        lambda: f"{rng.choice([12, 16, 20, 24, 30, 32, 40, 64])} oz {rng.choice(['tumbler', 'water bottle', 'mason jars', 'coffee mug'])}",
        lambda: f"{rng.choice([4, 8, 13, 30, 33, 39, 55])} gallon {rng.choice(['trash bags', 'fish tank', 'storage tote', 'trash can'])}",
        lambda: f"{rng.choice([2, 3, 4, 5, 6, 8, 10, 12])}mm {rng.choice(['drill bit', 'allen wrench', 'hex key set', 'socket'])}",
        lambda: f"{rng.choice([5, 7, 10, 14, 15, 20, 21])} cu ft {rng.choice(['chest freezer', 'refrigerator', 'upright freezer'])}",
        lambda: f"{rng.choice([4, 8, 12, 20, 24, 48])} pack {rng.choice(['aa batteries', 'aaa batteries', 'paper towels', 'toilet paper', 'dr pepper', 'la croix'])}",
        lambda: f"k cups {rng.choice([24, 40, 44, 72, 80, 100])} count",
        lambda: f"{rng.choice([50, 100, 150, 200, 300])} ct {rng.choice(['paper plates', 'trash bags', 'cotton swabs', 'zip bags'])}",
        lambda: f"vitamin d3 {rng.choice([1000, 2000, 5000, 10000])} iu",
        lambda: f"{rng.choice(['whirlpool', 'ge', 'samsung', 'lg', 'frigidaire'])} refrigerator filter {d(9)}",
        lambda: f"ge washer {r(0, 999):03d}-{r(0, 999):03d}-{r(0, 999):03d}",
        lambda: f"order sku {r(1000, 9999)}-{r(0, 999):03d}-{r(0, 999):03d}",
        lambda: f"upc {_digits(rng, 12, '0123456789')}",
        lambda: f"{rng.choice(['', 'barcode ', 'upc '])}{_digits(rng, 12, '0')}".strip(),
        lambda: f"lego {r(10000, 79999)}",
        lambda: f"{rng.choice(['rtx', 'gtx', 'rx'])} {rng.choice([1660, 2060, 3060, 3070, 3080, 4060, 4070, 4080, 4090, 6700, 7900])}",
        lambda: f"part number {d(rng.choice([6, 7, 8, 9, 10]))}",
        lambda: f"wp{d(8)} {rng.choice(['dryer belt', 'door gasket', 'water valve', 'drain pump'])}",
        lambda: f"isbn 978{_digits(rng, 10, '0123456789')}",
        lambda: f"978{_digits(rng, 10, '0123456789')}",
        lambda: f"{b()} model {rng.choice('abcdefghjkmnpqrstuvwxyz')}{d(4)}{rng.choice(['', 'a', 'b', 'x'])}",
        lambda: f"bosch icon wiper blades {rng.choice([16, 18, 19, 20, 21, 22, 24, 26, 28])} inch",
        lambda: f"replacement filter {d(rng.choice([5, 6, 7, 8]))}",
        lambda: f"copper fitting {rng.choice([45, 90])} degree street elbow",
        lambda: f"{rng.choice([1, 2, 3])}/{rng.choice([2, 4, 8])} inch {rng.choice(['street elbow', 'pvc elbow', 'pipe nipple', 'ball valve'])}",
        lambda: f"{rng.choice([2, 4, 6])} pack st patricks day {rng.choice(['decor', 'shirts', 'banners'])}",
        lambda: f"{rng.choice([4, 6])} wheel drive rc {rng.choice(['truck', 'car', 'crawler'])}",
        lambda: f"{rng.choice([1, 2])} way street sign",
        lambda: f"{rng.choice([2, 3, 4])} way {rng.choice(['switch', 'radio', 'splitter', 'stretch pants'])}",
        lambda: f"{rng.choice([2, 4])} lane {rng.choice(['road race track', 'slot car track', 'bowling set'])}",
        lambda: f"{rng.choice([5, 20, 40, 45, 65])} piece {rng.choice(['place setting', 'dinnerware set', 'flatware set'])}",
        lambda: f"{rng.choice([12, 24])} can {rng.choice(['dr pepper', 'coke', 'sprite'])}",
        lambda: f"st ives {rng.choice(['lotion', 'scrub', 'body wash'])} {rng.choice([10, 12, 16, 21])} oz",
        lambda: f"{rng.choice([100, 120])}-{rng.choice([240, 250])}v {rng.choice(['power adapter', 'charger', 'power supply'])}",
        lambda: f"{rng.choice([12, 24])}v {rng.choice(['led strip', 'battery charger', 'car fridge'])} {rng.choice([16, 32, 50])} ft",
        lambda: f"2 in 1 laptop {rng.choice([13, 14, 15.6, 16])} inch {rng.choice([8, 16, 32])}gb",
        lambda: f"{rng.choice([13, 14, 15.6, 16, 17.3])} inch laptop {rng.choice([8, 16, 32])}gb ram {rng.choice([256, 512, 1024])}gb ssd",
        lambda: f"{rng.choice([3.5, 6.35])} mm aux cable {rng.choice([3, 6, 10])} ft",
        lambda: f"{rng.choice(range(2018, 2027))} {rng.choice(['ford f150', 'honda civic', 'toyota camry', 'jeep wrangler', 'tesla model 3'])} {rng.choice(['floor mats', 'seat covers', 'headlights', 'wiper blades'])}",
        lambda: f"{rng.choice(range(2024, 2028))} {rng.choice(['calendar', 'planner', 'wall calendar'])}",
        lambda: f"iphone {rng.choice([11, 12, 13, 14, 15, 16, 17])} {rng.choice(['pro', 'pro max', 'plus', 'mini'])} case",
        lambda: f"{b()} {rng.choice([2, 4, 6, 8])}tb {rng.choice([5400, 7200])} rpm",
        lambda: f"{rng.choice(['1080p', '4k', '1440p'])} {rng.choice(['webcam', 'monitor', 'projector'])} {rng.choice([60, 120, 144, 165])}hz",
        lambda: f"{rng.choice([600, 1000, 1500, 1800])} w {rng.choice(['space heater', 'microwave', 'blender', 'power station'])}",
        lambda: f"{rng.choice([40, 60, 75, 100])} w {rng.choice(['led bulb', 'equivalent bulbs', 'light bulb'])}",
        lambda: f"{rng.choice([2, 3, 4])} n 1 {rng.choice(['dog shampoo', 'shampoo', 'printer'])}",
        lambda: f"cat{rng.choice(['5e', '6', '6a', '8'])} ethernet cable {rng.choice([3, 6, 10, 25, 50, 100, 1000])} ft",
        lambda: f"{rng.choice([3, 5, 10])} m {rng.choice(['usb c cable', 'hdmi cable', 'extension cord'])}",
        lambda: f"{rng.choice([18, 20])}v {b()} drill {rng.choice([2, 4, 5])}ah battery",
        lambda: f"{b()} {rng.choice(['dcd', 'dcf', 'xfd'])}{r(700, 999)}{rng.choice(['b', 'c2', 'p2', ''])}",
        lambda: f"{rng.choice([10, 12, 14, 16])} gauge {rng.choice(['extension cord', 'speaker wire', 'wire'])} {rng.choice([25, 50, 100])} ft",
        lambda: f"{r(1, 9)}{rng.choice(['', '.5'])} ft {rng.choice(['hdmi cable', 'shower curtain', 'step ladder'])}",
        lambda: f"{rng.choice([5000, 10000, 20000, 26800])} mah power bank",
        lambda: f"{rng.choice(['ps5', 'xbox series x', 'switch'])} {rng.choice([1, 2])}tb",
        lambda: f"{rng.choice([1, 2, 3, 4])} {rng.choice(['bedroom', 'seater', 'person', 'burner'])} {rng.choice(['tent', 'sofa', 'hot tub', 'gas grill'])}",
        lambda: f"{rng.choice(['3m', 'honeywell'])} {rng.choice([8210, 8511, 9205, 6200])} n95",
        lambda: f"{rng.choice([6, 8, 10, 12])}x{rng.choice([6, 8, 10, 12, 14, 16])} {rng.choice(['shed', 'gazebo', 'canopy'])}",
        lambda: f"{rng.choice([24, 30, 36, 48])} x {rng.choice([36, 60, 72, 80])} {rng.choice(['folding table', 'door', 'rug'])}",
        lambda: f"{b()} {rng.choice(['tv', 'soundbar'])} {rng.choice(['un', 'oled', 'qn'])}{rng.choice([43, 55, 65, 75])}{rng.choice(['tu7000', 'c1pua', 'q60c'])}",
        lambda: f"{rng.choice(['nike', 'adidas'])} {rng.choice(['air max', 'ultraboost'])} {rng.choice([90, 97, 270, 22, 23])} size {rng.choice([8, 9, 10, 11, 12])}",
        lambda: f"{rng.choice([1, 2, 3, 4, 5])} {rng.choice(['drawer dresser', 'shelf bookcase', 'tier shelf', 'step stool'])}",
        lambda: f"{rng.choice(['a4', 'letter'])} paper {rng.choice([500, 1000, 2500, 5000])} sheets",
        lambda: f"router ax{rng.choice([1800, 3000, 5400, 6000, 11000])}",
        lambda: f"{rng.choice(['t', 'f', 'b'])}{r(100, 999)} {rng.choice(['shirt', 'bulb', 'light'])}",
        lambda: f"route {r(1, 99)} {rng.choice(['sign', 't shirt', 'mug'])}",
        lambda: f"{r(100, 999)} {rng.choice(['sq ft', 'square feet'])} {rng.choice(['laminate flooring', 'rug pad', 'artificial grass'])}",
    ]
    seen: dict[str, None] = {}
    while len(seen) < 1200:
        seen.setdefault(" ".join(rng.choice(templates)().split()), None)
    return list(seen)


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            v -= 9 if v > 9 else 0
        total += v
    return body + str((10 - total % 10) % 10)


def _group(digits: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for s in sizes:
        out.append(digits[i:i + s])
        i += s
    return sep.join(out)


FIRST = ["john", "mary", "jane", "li", "carlos", "priya", "ahmed", "olga", "kevin", "maria", "wei", "fatima"]
LAST = ["smith", "doe", "garcia", "nguyen", "patel", "kowalski", "okafor", "brown", "lee", "hernandez"]
STREETS = ["elm", "oak", "maple", "main", "cedar", "pine", "washington", "lincoln", "park", "lake", "hill", "5th", "42nd"]
TYPES = ["street", "st", "avenue", "ave", "road", "rd", "blvd", "lane", "ln", "drive", "dr", "court", "ct", "way", "pl"]
CITIES = ["chicago", "springfield", "austin", "denver", "seattle", "boston", "portland", "miami"]
AREA = ["212", "312", "415", "617", "713", "206", "305", "404", "503", "646", "555"]


def positive_queries(rng: random.Random) -> list[tuple[str, str, str]]:
    p = lambda: rng.choice(PRODUCTS)  # noqa: E731
    rows: list[tuple[str, str, str]] = []

    def add(kind: str, templates: list[str], make, n: int, bare_templates: list[str] | None = None):
        while sum(1 for r in rows if r[0] == kind) < n:
            value = make()
            bare = bare_templates is not None and value.isdigit()  # a bare digit run: only after a context word
            query = rng.choice(bare_templates if bare else templates).format(v=value, p=p())
            if (kind, query, value) not in rows:
                rows.append((kind, query, value))

    def email():
        user = rng.choice([f"{rng.choice(FIRST)}.{rng.choice(LAST)}", f"{rng.choice(FIRST)}{rng.randint(1, 99)}",
                           f"{rng.choice(FIRST)}_{rng.choice(LAST)}+shop"])
        return f"{user}@{rng.choice(['gmail.com', 'yahoo.com', 'outlook.com', 'example.co.uk', 'mail.de', 'icloud.com'])}"

    add("EMAIL", ["{p} gift for {v}", "send receipt to {v}", "{v} {p} order", "email {v} about {p}",
                  "{p} {v}"], email, 45)

    def phone():
        area, mid, end = rng.choice(AREA), f"{rng.randint(200, 999)}", f"{rng.randint(0, 9999):04d}"
        shape = rng.randrange(7)
        if shape == 0:
            return f"{area}-{mid}-{end}"
        if shape == 1:
            return f"({area}) {mid}-{end}"
        if shape == 2:
            return f"{area}.{mid}.{end}"
        if shape == 3:
            return f"+1 {area} {mid} {end}"
        if shape == 4:
            return rng.choice(["+91 98765 43210", "+44 20 7946 0958", "+44 7700 900123", "+49 30 901820",
                               "+33 1 42 68 53 00", "+61 2 9374 4000", "+52 55 5342 1234", "+34 912 34 56 78",
                               "+86 10 6552 9988", "+81 3 1234 5678", "+55 11 91234 5678", "+91 22 2778 1234"])
        if shape == 5:
            return f"{area}{mid}{end}"  # bare: caught after a phone word
        return f"{area} {mid} {end}"

    add("PHONE", ["call {v} about {p}", "{p} call me at {v}", "text {v} {p}", "whatsapp {v}", "{v} {p} delivery",
                  "phone {v} {p} return", "my number is {v}", "{p} contact {v}"], phone, 60,
        bare_templates=["call {v} about {p}", "{p} call me at {v}", "text {v} {p}", "whatsapp {v}",
                        "phone {v} {p} return", "my number is {v}", "{p} contact {v}"])

    def card():
        prefix, length, sizes = rng.choice([("4", 16, [4, 4, 4, 4]), ("51", 16, [4, 4, 4, 4]),
                                            ("37", 15, [4, 6, 5]), ("6011", 16, [4, 4, 4, 4])])
        digits = _luhn_complete(prefix, length, rng)
        return _group(digits, sizes, rng.choice([" ", "-", ""]))

    add("CARD", ["card {v} refund", "visa {v}", "pay with {v} {p}", "{p} charged to {v}", "my card {v}"], card, 45)

    def ssn():
        area = rng.choice([n for n in range(1, 900) if n != 666])
        sep = rng.choice("-  .")  # one separator throughout, as people write them
        value = f"{area:03d}{sep}{rng.randint(1, 99):02d}{sep}{rng.randint(1, 9999):04d}"
        return value if rng.random() < 0.8 else value.replace("-", "").replace(" ", "").replace(".", "")

    add("SSN", ["my ssn is {v}", "ssn {v} form", "social security number {v}", "{p} ssn {v}", "ssn: {v}"], ssn, 45)

    def address():
        n = rng.choice([str(rng.randint(10, 9999)), str(rng.randint(100, 99999)), f"{rng.randint(1, 99)}"])
        shape = rng.randrange(5)
        if shape == 0:
            return f"{n} {rng.choice(['n', 's', 'w', 'e'])} {rng.choice(['broadway', 'clark', 'halsted', 'ashland', 'western'])}"
        if shape == 1:
            return f"po box {rng.randint(1, 99999)}"
        if shape == 2:
            return f"{n} {rng.choice(STREETS)} {rng.choice(TYPES)} apt {rng.randint(1, 40)}{rng.choice(['', 'b'])}"
        return f"{n} {rng.choice(STREETS)} {rng.choice(TYPES)}"

    add("ADDRESS", ["ship to {v} " + c for c in CITIES] + ["deliver {v} {p}", "{p} ship {v}", "send to {v}",
                    "{p} delivery {v}", "my address is {v}"], address, 60)

    def ip():
        if rng.random() < 0.8:
            return ".".join(str(rng.randint(1, 254)) for _ in range(4))
        return f"2001:db8:{rng.randint(1, 9999):x}::{rng.randint(1, 9999):x}"

    add("IP", ["ip {v} router", "{p} {v}", "my ip is {v}", "blocked from {v}", "login from {v}"], ip, 30)

    def number():
        return rng.choice([f"{rng.randint(10**7, 10**10)}", f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}-"
                           f"{rng.randint(10**6, 10**7 - 1)}", f"1z{''.join(rng.choice('0123456789abcdef') for _ in range(16))}"])

    add("NUMBER", ["account {v}", "tracking number {v}", "order number {v} {p}", "acct # {v}",
                   "confirmation {v}"], number, 30)

    def person():
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    add("PERSON", ["my name is {v} {p}", "{p} my name is {v}", "name: {v}"], person, 15)
    return rows


def main() -> None:
    rng = random.Random(SEED)
    HERE.mkdir(exist_ok=True)
    (HERE / "pii_product_queries.txt").write_text("\n".join(product_queries(rng)) + "\n", encoding="utf-8")
    with open(HERE / "pii_positive.tsv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["kind", "query", "value"])
        writer.writerows(positive_queries(rng))


if __name__ == "__main__":
    main()
