"""The name pools and fixed vocabularies the wiki's worlds are drawn from (all fictional)."""

from __future__ import annotations

COUNTRY_NAMES = (
    "Valdoria", "Carvenia", "Estoria", "Lunaria", "Brevania", "Korvath", "Tarnland", "Zephyria",
    "Merovia", "Dravonia", "Norvale", "Kestria", "Pelagia", "Orlantia", "Serevia", "Ostrelia",
)  # fmt: skip
CURRENCIES = ("crown", "mark", "florin", "thaler", "ducat", "lira", "shilling", "sol")
CITY_HEADS = (
    "Ash", "Bel", "Bran", "Cal", "Cor", "Dun", "Eld", "Fen", "Gar", "Hal", "Ist", "Kel", "Lor",
    "Mar", "Nor", "Orm", "Pel", "Ros", "Sel", "Tarn", "Ul", "Val", "Wen", "Yar", "Zel", "Brel",
    "Carv", "Dor", "Hest", "Lind",
)  # fmt: skip
CITY_TAILS = (
    "ford", "holm", "mere", "wick", "bury", "stead", "haven", "port", "dale", "gate", "mouth",
    "brook", "field", "ton", "by", "minster",
)  # fmt: skip
FIRST_NAMES = (
    "Ilse", "Tomas", "Mara", "Jonas", "Elin", "Viktor", "Hanna", "Oskar", "Lena", "Pavel",
    "Sofia", "Anton", "Greta", "Milo", "Irena", "Felix", "Nora", "Emil", "Vera", "Lukas", "Ada",
    "Bruno", "Clara", "Dario", "Edda", "Fabian", "Gilda", "Henrik", "Ines", "Julian", "Kira",
    "Leon", "Maren", "Niko", "Olga", "Piet", "Rosa", "Stefan", "Tilda", "Ugo", "Wanda", "Yusuf",
    "Zora", "Arvid", "Bettina",
)  # fmt: skip
LAST_NAMES = (
    "Varga", "Brenner", "Holm", "Kovac", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov",
    "Quist", "Rasmussen", "Salo", "Tamm", "Ulrich", "Vos", "Weller", "Yilmaz", "Zeman", "Adler",
    "Berg", "Castell", "Dahl", "Falk", "Gruber", "Haas", "Ivers", "Janik", "Krantz", "Lund",
    "Marek", "Nilsen", "Orban", "Prys", "Roth", "Sorel", "Thorne", "Urban", "Vance", "Wolff",
    "Aalto", "Brandt", "Corvin", "Dorn", "Ebbe", "Fenn", "Grau", "Halvor", "Imre", "Jessen",
)  # fmt: skip
MOUNTAIN_ROOTS = (
    "Aster", "Brask", "Corrin", "Dreva", "Elkan", "Fross", "Gallow", "Harn", "Ilvar", "Jorun",
    "Karsk", "Luth", "Morva", "Nesk", "Orrin", "Pira", "Quell", "Rask", "Sturm", "Tevel",
)  # fmt: skip
RIVER_ROOTS = (
    "Selva", "Amber", "Lira", "Oska", "Tavi", "Brenna", "Corva", "Dessa", "Ember", "Faro",
    "Gilda", "Isel", "Kava", "Letha", "Mira", "Nolla", "Orla", "Pera", "Rhena", "Vela",
)  # fmt: skip
COINED_HEADS = ("Kal", "Nor", "Vex", "Lum", "Ardo", "Tri", "Zen", "Orb", "Quan", "Sol", "Mer")
COINED_TAILS = ("vex", "ium", "ora", "tek", "ona", "ix", "aro")
INDUSTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # industry: (words a company name ends with, products)
    "Software": (
        ("Software", "Systems", "Labs", "Digital"),
        ("Ledger Pro", "Route Planner", "Cloud Vault", "Chess Master", "Mail Desk",
         "Photo Forge", "Code Lens", "Time Keeper"),
    ),
    "Food": (
        ("Foods", "Bakeries", "Dairies", "Provisions"),
        ("Rye Bread", "Oat Biscuits", "Apple Cider", "Goat Cheese", "Plum Jam", "Smoked Trout",
         "Honey Wafers", "Barley Tea"),
    ),
    "Energy": (
        ("Energy", "Power", "Solar", "Utilities"),
        ("Wind Turbines", "Solar Panels", "Heat Pumps", "Battery Packs", "Gas Boilers",
         "Smart Meters", "Tidal Generators", "Grid Cables"),
    ),
    "Textile": (
        ("Textiles", "Weavers", "Mills", "Looms"),
        ("Wool Blankets", "Linen Shirts", "Felt Hats", "Cotton Towels", "Silk Scarves",
         "Rain Coats", "Knit Sweaters", "Canvas Bags"),
    ),
    "Shipping": (
        ("Shipping", "Freight", "Lines", "Logistics"),
        ("Container Freight", "Ferry Service", "River Barges", "Cold Storage", "Port Handling",
         "Parcel Delivery", "Tanker Charter", "Cargo Insurance"),
    ),
    "Pharmaceutical": (
        ("Pharma", "Laboratories", "Remedies", "Biotech"),
        ("Cough Syrup", "Pain Tablets", "Allergy Spray", "Vitamin Drops", "Eye Drops",
         "Burn Ointment", "Sleep Aid", "Flu Vaccine"),
    ),
    "Automotive": (
        ("Motors", "Automotive", "Vehicles", "Works"),
        ("City Hatchback", "Delivery Van", "Farm Tractor", "Electric Scooter", "Touring Coach",
         "Pickup Truck", "Sports Coupe", "Motor Bicycle"),
    ),
}  # fmt: skip
OCCUPATION_PLURALS = {
    "Politician": "Politicians", "Entrepreneur": "Entrepreneurs", "Engineer": "Engineers",
    "Chemist": "Chemists", "Economist": "Economists", "Mountaineer": "Mountaineers",
    "Naturalist": "Naturalists", "Architect": "Architects", "Painter": "Painters",
    "Novelist": "Novelists", "Physician": "Physicians",
}  # fmt: skip
SPECIES_GROUPS = {
    "Bird": ("Heron", "Finch", "Warbler", "Owl", "Kestrel", "Plover"),
    "Fish": ("Pike", "Trout", "Carp", "Loach", "Perch"),
    "Mammal": ("Fox", "Vole", "Marten", "Bat", "Hare"),
    "Reptile": ("Gecko", "Viper", "Skink", "Tortoise"),
}
SPECIES_ADJECTIVES = (
    "Crested", "Spotted", "Silver", "Marbled", "Dusky", "Golden", "Striped", "Lesser", "Greater",
    "Red-billed", "Long-tailed", "Banded", "Pale", "Mountain",
)  # fmt: skip
STATUSES = ("Least concern", "Near threatened", "Vulnerable", "Endangered")
