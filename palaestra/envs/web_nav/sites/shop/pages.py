"""The shop's browsing pages: home, search results with filters, product pages, delivery API.

Every page starts with the same search box (textbox "Search", button "Search"). The results
page adds a filter form that keeps the query in a hidden field. The product page's "Check
delivery" button is the site's JavaScript flow: it fetches ``/shop/api/delivery`` and writes
"Arrives in N days" into the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from palaestra.envs.web_nav.sites.base import esc, field_error, layout, paginate, session_of
from palaestra.envs.web_nav.sites.shop.catalog import CATEGORIES, SORTS, Catalog, Product, search
from palaestra.envs.web_nav.sites.shop.orders import delivery_days, money
from palaestra.envs.web_nav.sites.shop.site import ShopSite

__all__ = [
    "PAGE_SIZE",
    "ROUTES",
    "catalog_of",
    "options_html",
    "page",
    "parse_price",
    "results_path",
]

PAGE_SIZE = 8
"""Results per page."""


def catalog_of(request: Request) -> Catalog:
    """The catalog of the episode's world."""
    catalog: Catalog = session_of(request).world.data
    return catalog


def page(
    title: str, body: str, *, query: str = "", script: str = "", status: int = 200
) -> Response:
    """A shop page: the navigation, the search box (holding ``query``) and the body."""
    search_box = (
        f'<form method="get" action="{ShopSite.href("/search")}">'
        f'<label for="search-box">Search</label> '
        f'<input id="search-box" name="q" type="text" value="{esc(query)}"> '
        f'<button type="submit">Search</button></form>'
    )
    nav = [("Cart", "/cart"), ("My orders", "/orders")]
    document = layout(ShopSite, title, search_box + body, nav=nav, script=script)
    return HTMLResponse(document, status_code=status)


def options_html(options: Iterable[tuple[str, str]], chosen: str) -> str:
    """``<option>`` elements from (value, label) pairs, ``chosen`` selected."""
    return "".join(
        f'<option value="{esc(value)}"{" selected" if value == chosen else ""}>'
        f"{esc(label)}</option>"
        for value, label in options
    )


def parse_price(text: str) -> int | None:
    """A price typed as ``25``, ``19.99`` or ``$19.99``, in cents; None when it is not one."""
    cleaned = text.strip().removeprefix("$").replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if not 0 <= value < 1_000_000 or value != value:
        return None
    return round(value * 100)


def results_path(**params: str | int) -> str:
    """The path of a results page with these parameters (empty ones left out)."""
    kept = {k: str(v) for k, v in params.items() if v not in ("", None)}
    return "/search" + (f"?{urlencode(kept)}" if kept else "")


async def home(request: Request) -> Response:
    """The home page: a greeting, the search box and the category links."""
    catalog = catalog_of(request)
    links = "".join(
        f'<li><a href="{ShopSite.href(results_path(category=c))}">{esc(c)}</a></li>'
        for c in CATEGORIES
    )
    body = (
        f"<h1>{esc(ShopSite.title)}</h1>"
        f"<p>Signed in as {esc(catalog.customer.name)}.</p>"
        f"<h2>Shop by category</h2><ul>{links}</ul>"
    )
    return page("Home", body)


async def results(request: Request) -> Response:
    """Search results and category listings, filtered, sorted and paginated."""
    catalog = catalog_of(request)
    params = request.query_params
    query = params.get("q", "").strip()
    category = params.get("category", "")
    category = category if category in CATEGORIES else ""
    sort = params.get("sort", "featured")
    sort = sort if sort in SORTS else "featured"
    max_price_text = params.get("max_price", "").strip()
    max_price = parse_price(max_price_text) if max_price_text else None
    error = ""
    if max_price_text and max_price is None:
        error = '<p class="error">Enter a maximum price such as 25 or 19.99.</p>'
    found = search(catalog.products, query, category, max_price, sort)
    paged = paginate(found, params.get("page"), PAGE_SIZE)
    number, pages, shown = paged.number, paged.pages, paged.shown
    title = f'Results for "{query}"' if query else category or "All products"
    categories = [("", "All categories")] + [(c, c) for c in CATEGORIES]
    filters = (
        f'<form method="get" action="{ShopSite.href("/search")}">'
        f'<input type="hidden" name="q" value="{esc(query)}">'
        f'<label for="category">Category</label> <select id="category" name="category">'
        f"{options_html(categories, category)}</select> "
        f'<label for="max-price">Max price</label> '
        f'<input id="max-price" name="max_price" type="text" value="{esc(max_price_text)}"> '
        f"{error}"
        f'<label for="sort">Sort by</label> <select id="sort" name="sort">'
        f"{options_html(SORTS.items(), sort)}</select> "
        f'<button type="submit">Apply filters</button></form>'
    )
    if shown:
        items = "".join(_result_item(p) for p in shown)
        first = paged.first + 1
        listing = (
            f"<p>Showing {first}-{first + len(shown) - 1} of {len(found)} products.</p>"
            f"<ul>{items}</ul>"
        )
    else:
        listing = "<p>No products match your search.</p>"
    keep = {"q": query, "category": category, "max_price": max_price_text}
    if sort != "featured":
        keep["sort"] = sort
    pager = []
    if number > 1:
        previous = results_path(**keep, page=number - 1 if number > 2 else "")
        pager.append(f'<a href="{ShopSite.href(previous)}">Previous page</a>')
    if pages > 1:
        pager.append(f"<span>Page {number} of {pages}</span>")
    if number < pages:
        pager.append(
            f'<a href="{ShopSite.href(results_path(**keep, page=number + 1))}">Next page</a>'
        )
    body = f"<h1>{esc(title)}</h1>{filters}{listing}<p>{' '.join(pager)}</p>"
    return page(title, body, query=query)


def _result_item(product: Product) -> str:
    return (
        f'<li><a href="{ShopSite.href(f"/product/{product.id}")}">{esc(product.name)}</a>'
        f" - {money(product.price_cents)} - {esc(product.brand)} - {product.rating} stars</li>"
    )


def stock_of(request: Request, product: Product) -> int:
    """Units of the product in stock now, in this episode."""
    row = (
        session_of(request)
        .database.execute("SELECT stock FROM products WHERE id = ?", (product.id,))
        .fetchone()
    )
    return int(row[0]) if row is not None else 0


def product_page(
    request: Request,
    product: Product,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """A product page; ``values`` and ``errors`` refill the cart form after a refused add."""
    values = values or {}
    errors = errors or {}
    stock = stock_of(request, product)
    specs = [
        ("Brand", product.brand),
        ("Category", product.category),
        ("Material", product.material),
        ("Weight", f"{product.weight_kg} kg"),
        ("Warranty", f"{product.warranty_years} year{'s' if product.warranty_years > 1 else ''}"),
    ]
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in specs)
    availability = f"In stock: {stock}" if stock else "Out of stock"
    fields = ""
    for key, label, choices in (
        ("size", "Size", product.sizes),
        ("color", "Color", product.colors),
    ):
        if not choices:
            continue
        listed = [("", f"Choose a {key}")] + [(c.value, c.label) for c in choices]
        fields += (
            f'<p><label for="{key}">{label}</label> <select id="{key}" name="{key}">'
            f"{options_html(listed, values.get(key, ''))}</select>{field_error(errors, key)}</p>"
        )
    form = (
        f'<form method="post" action="{ShopSite.href("/cart/add")}">'
        f'<input type="hidden" name="product" value="{product.id}">{fields}'
        f'<p><label for="quantity">Quantity</label> <input id="quantity" name="quantity" '
        f'type="text" inputmode="numeric" value="{esc(values.get("quantity", "1"))}">'
        f"{field_error(errors, 'quantity')}</p>"
        f'{field_error(errors, "product")}<button type="submit">Add to cart</button></form>'
    )
    delivery = (
        '<h2>Delivery</h2><p><label for="delivery-zip">Delivery ZIP</label> '
        '<input id="delivery-zip" type="text" inputmode="numeric"> '
        '<button type="button" data-js id="check-delivery">Check delivery</button></p>'
        '<p id="delivery-result" aria-live="polite"></p>'
    )
    body = (
        f"<h1>{esc(product.name)}</h1>"
        f"<p>Price: {money(product.price_cents)}</p>"
        f"<p>Rating: {product.rating} out of 5 ({product.reviews} reviews)</p>"
        f"<p>{esc(product.description)}</p>"
        f"<table><tr><th>Spec</th><th>Value</th></tr>{rows}</table>"
        f"<p>{availability}</p>{form}{delivery}"
    )
    api = json.dumps(f"/{ShopSite.name}/api/delivery?product={product.id}&zip=")
    # palaestraWork counts the whole handler, so the page settles once the estimate shows.
    script = (
        'document.getElementById("check-delivery").addEventListener("click", () =>\n'
        "  palaestraWork(async () => {\n"
        '    const zip = document.getElementById("delivery-zip").value.trim();\n'
        f"    const response = await fetch({api} + encodeURIComponent(zip));\n"
        "    const data = await response.json();\n"
        '    document.getElementById("delivery-result").textContent = data.message || data.error;\n'
        "  }));"
    )
    return page(product.name, body, script=script, status=422 if errors else 200)


def not_found(what: str) -> Response:
    """The shop's 404 page."""
    return page("Not found", f"<h1>Not found</h1><p>{esc(what)}</p>", status=404)


async def product(request: Request) -> Response:
    """A product page."""
    found = catalog_of(request).by_id.get(request.path_params["product_id"])
    if found is None:
        return not_found("There is no product at this address.")
    return product_page(request, found)


async def delivery(request: Request) -> Response:
    """JSON: how many days delivery of a product to a ZIP code takes."""
    catalog = catalog_of(request)
    zip_code = request.query_params.get("zip", "").strip()
    try:
        found = catalog.by_id.get(int(request.query_params.get("product", "")))
    except ValueError:
        found = None
    if found is None:
        return JSONResponse({"error": "Unknown product."}, status_code=404)
    if not (len(zip_code) == 5 and zip_code.isdigit()):
        return JSONResponse({"error": "Enter a 5-digit ZIP code."}, status_code=422)
    days = delivery_days(found.id, zip_code)
    return JSONResponse({"days": days, "message": f"Arrives in {days} days"})


ROUTES = [
    Route("/", home),
    Route("/search", results),
    Route("/product/{product_id:int}", product),
    Route("/api/delivery", delivery),
]
