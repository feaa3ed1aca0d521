"""The shop's buying pages: the cart, the checkout, the confirmation and My orders.

The cart is scratch state (``session.scratch["cart"]``, a list of `Line`); only a placed order
reaches the verified tables. Every form is validated on the server, and a refused form comes
back with what was typed and a message next to the field.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from palaestra.envs.web_nav.sites.base import esc, field_error, posted, session_of
from palaestra.envs.web_nav.sites.shop.catalog import COUNTRIES, Catalog, Product
from palaestra.envs.web_nav.sites.shop.orders import (
    EXPRESS_CENTS,
    FREE_SHIPPING_FROM_CENTS,
    GIFT_WRAP_CENTS,
    MAX_QUANTITY,
    STANDARD_CENTS,
    Address,
    Line,
    money,
    order_rows,
    save_order,
    unit_price_cents,
)
from palaestra.envs.web_nav.sites.shop.pages import (
    catalog_of,
    not_found,
    options_html,
    page,
    product_page,
    stock_of,
)
from palaestra.envs.web_nav.sites.shop.site import ShopSite

__all__ = ["ROUTES", "long_date", "options_text"]


def _cart(request: Request) -> list[Line]:
    cart: list[Line] = session_of(request).scratch.setdefault("cart", [])
    return cart


def _redirect(path: str) -> Response:
    return RedirectResponse(f"/{ShopSite.name}{path}", status_code=303)


def options_text(size: str, color: str) -> str:
    """A line's options as the cart and the orders show them: ``Size M, Color Navy``."""
    parts = [f"Size {size}" if size else "", f"Color {color}" if color else ""]
    return ", ".join(p for p in parts if p) or "-"


def long_date(iso: str) -> str:
    """``2026-03-04`` as ``March 4, 2026``."""
    day = dt.date.fromisoformat(iso)
    return f"{day:%B} {day.day}, {day.year}"


def _choice_error(product: Product, kind: str, value: str) -> str | None:
    choices = product.sizes if kind == "size" else product.colors
    choice = next((c for c in choices if c.value == value), None)
    if choice is None:
        return f"Choose a {kind}."
    if not choice.in_stock:
        return f"{kind.capitalize()} {value} is out of stock."
    return None


async def add_to_cart(request: Request) -> Response:
    """Add a product with its options to the cart, or refuse with the reason on the form."""
    catalog = catalog_of(request)
    form = await posted(request)
    pid = form.get("product", "")
    product = catalog.by_id.get(int(pid)) if pid.isdigit() else None
    if product is None:
        return not_found("There is no such product.")
    errors: dict[str, str] = {}
    size = form.get("size", "") if product.sizes else ""
    color = form.get("color", "") if product.colors else ""
    for kind, value, choices in (("size", size, product.sizes), ("color", color, product.colors)):
        problem = _choice_error(product, kind, value) if choices else None
        if problem:
            errors[kind] = problem
    text = form.get("quantity", "").strip()
    quantity = int(text) if text.isdigit() else 0
    cart = _cart(request)
    in_cart = sum(line.quantity for line in cart if line.product_id == product.id)
    same = next(
        (x for x in cart if (x.product_id, x.size, x.color) == (product.id, size, color)), None
    )
    stock = stock_of(request, product)
    if stock == 0:
        errors["product"] = "This product is out of stock."
    elif not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = f"Enter a quantity from 1 to {MAX_QUANTITY}."
    elif quantity + in_cart > stock:
        already = f" and you already have {in_cart} in your cart" if in_cart else ""
        errors["quantity"] = f"Only {stock} left in stock{already}."
    elif same is not None and same.quantity + quantity > MAX_QUANTITY:
        errors["quantity"] = f"At most {MAX_QUANTITY} of an item per order."
    if errors:
        return product_page(request, product, form, errors)
    if same is not None:
        cart[cart.index(same)] = Line(product.id, size, color, same.quantity + quantity)
    else:
        cart.append(Line(product.id, size, color, quantity))
    return _redirect("/cart")


def _line_key(line: Line) -> str:
    return f"{line.product_id}:{line.size}:{line.color}"


async def remove_from_cart(request: Request) -> Response:
    """Take a line out of the cart."""
    key = (await posted(request)).get("line", "")
    cart = _cart(request)
    cart[:] = [line for line in cart if _line_key(line) != key]
    return _redirect("/cart")


def _subtotal(catalog: Catalog, cart: list[Line]) -> int:
    return sum(
        unit_price_cents(catalog.by_id[x.product_id], x.size, x.color) * x.quantity for x in cart
    )


async def cart_page(request: Request) -> Response:
    """The cart: its lines with a Remove button each, the subtotal and the Checkout link."""
    catalog = catalog_of(request)
    cart = _cart(request)
    if not cart:
        body = "<h1>Your cart</h1><p>Your cart is empty.</p>"
        return page("Cart", body)
    rows = ""
    for line in cart:
        product = catalog.by_id[line.product_id]
        unit = unit_price_cents(product, line.size, line.color)
        remove = (
            f'<form method="post" action="{ShopSite.href("/cart/remove")}">'
            f'<input type="hidden" name="line" value="{esc(_line_key(line))}">'
            f'<button type="submit">Remove</button></form>'
        )
        rows += (
            f"<tr><td>{esc(product.name)}</td><td>{esc(options_text(line.size, line.color))}</td>"
            f"<td>{line.quantity}</td><td>{money(unit)}</td><td>{money(unit * line.quantity)}</td>"
            f"<td>{remove}</td></tr>"
        )
    body = (
        "<h1>Your cart</h1><table><tr><th>Product</th><th>Options</th><th>Quantity</th>"
        f"<th>Unit price</th><th>Total</th><th></th></tr>{rows}</table>"
        f"<p>Subtotal: {money(_subtotal(catalog, cart))}</p>"
        f'<p><a href="{ShopSite.href("/checkout")}">Checkout</a></p>'
    )
    return page("Cart", body)


def _checkout_form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    catalog = catalog_of(request)
    cart = _cart(request)
    if not cart:
        return page("Checkout", "<h1>Checkout</h1><p>Your cart is empty.</p>", status=status)

    def textbox(key: str, label: str) -> str:
        return (
            f'<p><label for="{key}">{label}</label> <input id="{key}" name="{key}" type="text" '
            f'value="{esc(values.get(key, ""))}">{field_error(errors, key)}</p>'
        )

    countries = options_html(((c, c) for c in COUNTRIES), values.get("country", ""))
    express = values.get("shipping") == "express"
    standard = "" if express else " checked"
    wrapped = " checked" if values.get("gift_wrap") else ""
    free_from = money(FREE_SHIPPING_FROM_CENTS)
    form = (
        f'<form method="post" action="{ShopSite.href("/checkout")}"><h2>Shipping address</h2>'
        f"{textbox('full_name', 'Full name')}{textbox('street', 'Street')}"
        f"{textbox('city', 'City')}{textbox('zip', 'ZIP code')}"
        f'<p><label for="country">Country</label> <select id="country" name="country">'
        f"{countries}</select>{field_error(errors, 'country')}</p><h2>Shipping method</h2>"
        f'<p><input type="radio" id="standard" name="shipping" value="standard"{standard}> '
        f'<label for="standard">Standard shipping</label> '
        f"<span>{money(STANDARD_CENTS)}, free on orders of {free_from} or more</span></p>"
        f'<p><input type="radio" id="express" name="shipping" value="express"'
        f'{" checked" if express else ""}> <label for="express">Express shipping</label> '
        f"<span>{money(EXPRESS_CENTS)}</span></p>{field_error(errors, 'shipping')}"
        f'<p><input type="checkbox" id="gift-wrap" name="gift_wrap" value="1"{wrapped}> '
        f'<label for="gift-wrap">Gift wrap</label> <span>+{money(GIFT_WRAP_CENTS)}</span></p>'
        f'{field_error(errors, "cart")}<button type="submit">Place order</button></form>'
    )
    units = sum(line.quantity for line in cart)
    subtotal = money(_subtotal(catalog, cart))
    summary = f"<p>{units} item{'s' if units > 1 else ''}, subtotal {subtotal}.</p>"
    notice = '<p class="error">Please correct the fields marked below.</p>' if errors else ""
    return page("Checkout", f"<h1>Checkout</h1>{summary}{notice}{form}", status=status)


async def checkout(request: Request) -> Response:
    """The checkout form, filled with the customer's saved name and address."""
    customer = catalog_of(request).customer
    values = {
        "full_name": customer.name,
        "street": customer.street,
        "city": customer.city,
        "zip": customer.zip,
        "country": customer.country,
        "shipping": "standard",
    }
    return _checkout_form(request, values, {})


async def place_order(request: Request) -> Response:
    """Validate the checkout form, store the order and show its confirmation."""
    catalog = catalog_of(request)
    form = {k: " ".join(v.split()) for k, v in (await posted(request)).items()}
    cart = _cart(request)
    errors: dict[str, str] = {}
    for key, message in (
        ("full_name", "Enter the full name."),
        ("street", "Enter the street address."),
        ("city", "Enter the city."),
    ):
        if not form.get(key):
            errors[key] = message
    if not (len(form.get("zip", "")) == 5 and form.get("zip", "").isdigit()):
        errors["zip"] = "Enter a 5-digit ZIP code."
    if form.get("country") not in COUNTRIES:
        errors["country"] = "Choose a country."
    if form.get("shipping") not in ("standard", "express"):
        errors["shipping"] = "Choose a shipping method."
    for product_id in {line.product_id for line in cart}:
        product = catalog.by_id[product_id]
        left = stock_of(request, product)
        if sum(x.quantity for x in cart if x.product_id == product_id) > left:
            errors["cart"] = f"Only {left} of {product.name} left in stock; change your cart."
    if errors or not cart:
        return _checkout_form(request, form, errors, status=422)
    database = session_of(request).database
    order_id = _next_order_id(database)
    address = Address(form["full_name"], form["street"], form["city"], form["zip"], form["country"])
    order, items = order_rows(
        catalog,
        order_id,
        list(cart),
        address,
        form["shipping"],
        bool(form.get("gift_wrap")),
        catalog.today,
    )
    save_order(database, order, items)
    cart.clear()
    return _redirect(f"/confirmation/{order_id}")


def _next_order_id(database: sqlite3.Connection) -> int:
    return int(database.execute("SELECT MAX(id) FROM orders").fetchone()[0]) + 1


def _order(request: Request) -> sqlite3.Row | None:
    found: sqlite3.Row | None = (
        session_of(request)
        .database.execute("SELECT * FROM orders WHERE id = ?", (request.path_params["order_id"],))
        .fetchone()
    )
    return found


def _order_href(order: sqlite3.Row) -> str:
    return ShopSite.href(f"/orders/{order['id']}")


async def confirmation(request: Request) -> Response:
    """The page a placed order lands on: its number and total."""
    order = _order(request)
    if order is None:
        return not_found("There is no such order.")
    body = (
        "<h1>Thank you for your order</h1>"
        f"<p>Your order number is {order['id']}.</p>"
        f"<p>Total charged: {money(order['total_cents'])}</p>"
        f'<p><a href="{_order_href(order)}">View order</a></p>'
    )
    return page("Order placed", body)


async def orders(request: Request) -> Response:
    """My orders: every order of the customer, newest first."""
    rows = session_of(request).database.execute("SELECT * FROM orders ORDER BY id DESC").fetchall()
    listed = "".join(
        f'<tr><td><a href="{_order_href(o)}">Order #{o["id"]}</a></td>'
        f"<td>{long_date(o['placed_on'])}</td><td>{esc(o['status'])}</td>"
        f"<td>{money(o['total_cents'])}</td></tr>"
        for o in rows
    )
    body = (
        "<h1>My orders</h1><table><tr><th>Order</th><th>Placed on</th><th>Status</th>"
        f"<th>Total</th></tr>{listed}</table>"
    )
    return page("My orders", body)


async def order_detail(request: Request) -> Response:
    """One order: its lines, address, shipping and the amounts."""
    order = _order(request)
    if order is None:
        return not_found("There is no such order.")
    items = session_of(request).database.execute(
        "SELECT * FROM order_items WHERE order_id = ? ORDER BY rowid", (order["id"],)
    )
    rows = "".join(
        f"<tr><td>{esc(i['product_name'])}</td><td>{esc(options_text(i['size'], i['color']))}</td>"
        f"<td>{i['quantity']}</td><td>{money(i['unit_price_cents'])}</td>"
        f"<td>{money(i['unit_price_cents'] * i['quantity'])}</td></tr>"
        for i in items
    )
    shipping = "Express shipping" if order["shipping"] == "express" else "Standard shipping"
    wrap = money(order["gift_wrap_cents"]) if order["gift_wrap"] else "none"
    body = (
        f"<h1>Order #{order['id']}</h1>"
        f"<p>Placed on {long_date(order['placed_on'])}. Status: {esc(order['status'])}.</p>"
        "<table><tr><th>Product</th><th>Options</th><th>Quantity</th><th>Unit price</th>"
        f"<th>Total</th></tr>{rows}</table>"
        f"<p>Subtotal: {money(order['subtotal_cents'])}</p>"
        f"<p>{shipping}: {money(order['shipping_cents'])}</p>"
        f"<p>Gift wrap: {wrap}</p>"
        f"<p>Order total: {money(order['total_cents'])}</p>"
        f"<p>Ship to: {esc(order['full_name'])}, {esc(order['street'])}, {esc(order['city'])} "
        f"{esc(order['zip'])}, {esc(order['country'])}</p>"
    )
    return page(f"Order #{order['id']}", body)


ROUTES = [
    Route("/cart", cart_page),
    Route("/cart/add", add_to_cart, methods=["POST"]),
    Route("/cart/remove", remove_from_cart, methods=["POST"]),
    Route("/checkout", checkout, methods=["GET"]),
    Route("/checkout", place_order, methods=["POST"]),
    Route("/confirmation/{order_id:int}", confirmation),
    Route("/orders", orders),
    Route("/orders/{order_id:int}", order_detail),
]
