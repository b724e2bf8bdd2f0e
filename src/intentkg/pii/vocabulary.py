"""Word lists the PII rules share: what marks a number as a product's (a unit, a product-code word),
what marks it as a person's (context words), and the parts of a street address."""

from __future__ import annotations

# a number followed by one of these is a size, a capacity or a count, never a house number or a phone
UNITS = frozenset("""
in inch inches ft foot feet ' " yd yard yards mi mile miles mm cm m meter meters metre metres km
oz ounce ounces fl lb lbs pound pounds g gram grams kg mg mcg ml l liter liters litre litres gal gallon
gallons qt quart quarts pt pint pints cc cu cuft sq sqft
gb tb mb kb gig gigs terabyte terabytes gigabyte gigabytes mbps gbps ghz mhz hz mah wh kwh
w watt watts v volt volts amp amps a ah kw hp rpm psi db dpi mp megapixel k p fps btu lumen lumens
pack packs pk pc pcs piece pieces count ct set sets pair pairs pairs roll rolls sheet sheets box boxes
bag bags can cans bottle bottles jar jars tablet tablets capsule capsules softgels caps cups
x by degree degrees deg ply gauge ga awg mil carat karat kt ct tier tiers step steps person people
seater seat seats burner burners drawer drawers door doors shelf shelves tray trays slot slots port ports
outlet outlets gang wheel wheels speed speeds stage layer layers panel panels bit mil year years yr
month months week weeks day days hour hours hr hrs min minute minutes sec second seconds inch-
""".split())

# a number right after one of these is a product code (SKU, UPC, model, part number)
PRODUCT_CODE_WORDS = frozenset("""
sku skus upc upcs ean gtin isbn asin mpn model models part parts pn p/n item items style cat catalog
catalogue ref oem replacement replaces replace compatible fits fit filter filters no. series version
ver rev firmware size sizes code lot batch
""".split())

# words near a number that make it a person's
PHONE_CONTEXT = frozenset("""
call phone telephone tel cell cellphone mobile whatsapp text sms fax contact reach ring dial
""".split())
# "number" alone is a part, model or query number; after one of these it is a phone's ("my number is")
PHONE_NUMBER_OWNERS = frozenset("my your his her our home work".split())
ADDRESS_CONTEXT = frozenset("""
ship shipping shipped deliver delivery delivered send sent mail mailing address addr live lives living
located location house home apartment pickup pick visit near
""".split())

DIRECTIONS = frozenset("n s e w ne nw se sw north south east west northeast northwest southeast southwest".split())

# street types (USPS suffixes): abbreviations count only in address position (end, comma, unit, ...)
STREET_TYPES_STRONG = frozenset("""
street avenue road boulevard terrace parkway highway expressway freeway turnpike crescent alley
""".split())
STREET_TYPES_WEAK = frozenset("drive lane court place circle way trail square loop row run path point plaza pike".split())
STREET_ABBREVIATIONS = frozenset("""
st ave av rd blvd ln dr ct pl ter pkwy hwy cir trl sq expy fwy tpke aly plz
""".split())
STREET_TYPES = STREET_TYPES_STRONG | STREET_TYPES_WEAK | STREET_ABBREVIATIONS
UNIT_DESIGNATORS = frozenset("apt apartment unit suite ste # fl floor bldg building rm room".split())

# words that name a product part before a weak street type ("usb flash drive", "4 wheel drive")
PRODUCT_WORDS = frozenset("""
flash hard thumb usb disk disc ssd hdd external internal cd dvd blu ray tape optical floppy zip jump
pen memory storage network sata nvme portable solid state test golf bowling slot track race racing
car truck toy train wheel belt screw shaft bit socket torque hex phillips chain gear motor power
steering front rear all four wheel lane bike bicycle skate swim pool running treadmill express
""".split())

US_STATES = frozenset("""
al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc
nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc
""".split())
