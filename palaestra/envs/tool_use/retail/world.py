"""Retail: an online shop's customers, products and orders.

Orders move pending -> shipped -> delivered (or pending -> cancelled, delivered -> returned).
Only pending orders can be cancelled or re-addressed, only delivered ones returned, and an order
cannot take more units than are in stock.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from palaestra.core.tools import tool
from palaestra.envs.tool_use.names import person_names, street_address
from palaestra.envs.tool_use.world import World
from palaestra.errors import ToolError

__all__ = ["RetailWorld"]


CancelReason = Literal["no longer needed", "ordered by mistake", "found a better price"]
CANCEL_REASONS: tuple[str, ...] = ("no longer needed", "ordered by mistake", "found a better price")
MAX_QUANTITY = 10

_CATALOGUE = {
    "kitchen": [
        "ceramic mug",
        "chef knife",
        "cast iron pan",
        "tea kettle",
        "salad bowl",
        "pepper mill",
    ],
    "office": [
        "desk lamp",
        "notebook set",
        "fountain pen",
        "monitor stand",
        "paper tray",
        "stapler",
    ],
    "outdoor": [
        "camping stove",
        "hiking backpack",
        "water bottle",
        "rain jacket",
        "head torch",
        "tent",
    ],
    "electronics": [
        "usb-c charger",
        "wireless mouse",
        "bluetooth speaker",
        "hdmi cable",
        "webcam",
        "power bank",
    ],
}
_COLOURS = ["red", "blue", "green", "black", "white", "grey", "yellow"]


def _money(value: float) -> float:
    return round(value + 1e-9, 2)


class RetailWorld(World):
    """Customers, products and orders of an online shop."""

    domain = "retail"
    policy = (
        "Only pending orders can be cancelled or have their shipping address changed; only "
        "delivered orders can be returned. A cancellation needs one of the reasons "
        f"{', '.join(repr(r) for r in CANCEL_REASONS)}. An order line takes 1 to {MAX_QUANTITY} "
        "units and never more than are in stock."
    )

    @classmethod
    def generate(cls, rng: random.Random) -> RetailWorld:
        """A shop with 6-10 customers, 12-18 products and 10-18 orders."""
        # Id ranges start at random places so that ids, and the tasks that quote them, vary.
        customer_base, product_base, order_base = (rng.randrange(100, 9000) for _ in range(3))
        customers = {}
        for index, name in enumerate(person_names(rng, rng.randint(6, 10))):
            cid = f"C-{customer_base + index}"
            email = name.lower().replace(" ", ".") + "@example.com"
            customers[cid] = {
                "id": cid,
                "name": name,
                "email": email,
                "address": street_address(rng),
            }
        products = {}
        picks = rng.sample(
            [(c, item) for c, items in _CATALOGUE.items() for item in items], rng.randint(12, 18)
        )
        for index, (category, item) in enumerate(picks):
            pid = f"P-{product_base + index}"
            products[pid] = {
                "id": pid,
                "name": f"{rng.choice(_COLOURS)} {item}",
                "category": category,
                "price": _money(rng.randint(300, 12000) / 100),
                "stock": rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 35]),
            }
        orders = {}
        statuses = ["pending", "pending", "shipped", "delivered", "delivered", "cancelled"]
        for index in range(rng.randint(10, 18)):
            oid = f"O-{order_base + index}"
            lines: list[dict[str, Any]] = []
            for pid in rng.sample(sorted(products), rng.randint(1, 3)):
                lines.append(
                    {
                        "product_id": pid,
                        "quantity": rng.randint(1, 3),
                        "unit_price": products[pid]["price"],
                    }
                )
            customer = customers[rng.choice(sorted(customers))]
            orders[oid] = {
                "id": oid,
                "customer_id": customer["id"],
                "items": lines,
                "status": rng.choice(statuses),
                "address": customer["address"],
                "total": _money(sum(line["unit_price"] * line["quantity"] for line in lines)),
            }
        state = {
            "customers": customers,
            "products": products,
            "orders": orders,
            "next_order": order_base + len(orders),
        }
        return cls(state)

    # ------------------------------------------------------------------------------ look-ups
    def _customer(self, customer_id: str) -> dict[str, Any]:
        if customer_id not in self.state["customers"]:
            raise ToolError(
                f"No customer with id {customer_id!r}. Use find_customer to look up ids."
            )
        return self.state["customers"][customer_id]

    def _product(self, product_id: str) -> dict[str, Any]:
        if product_id not in self.state["products"]:
            raise ToolError(
                f"No product with id {product_id!r}. Use search_products to look up ids."
            )
        return self.state["products"][product_id]

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.state["orders"]:
            raise ToolError(
                f"No order with id {order_id!r}. Use list_orders to see a customer's orders."
            )
        return self.state["orders"][order_id]

    # ---------------------------------------------------------------------------------- tools
    @tool
    def find_customer(self, name: str) -> list[dict[str, Any]]:
        """Find customers whose name contains the given text (case-insensitive).

        Args:
            name: Full or partial customer name.
        """
        needle = name.strip().lower()
        if not needle:
            raise ToolError("name must not be empty.")
        return [
            {"id": c["id"], "name": c["name"], "email": c["email"]}
            for c in self.state["customers"].values()
            if needle in c["name"].lower()
        ]

    @tool
    def get_customer(self, customer_id: str) -> dict[str, Any]:
        """Get a customer's details: name, email and address.

        Args:
            customer_id: Customer id, like "C-1001".
        """
        return dict(self._customer(customer_id))

    @tool
    def list_orders(self, customer_id: str) -> list[dict[str, Any]]:
        """List a customer's orders (id, status, total), oldest first.

        Args:
            customer_id: Customer id, like "C-1001".
        """
        self._customer(customer_id)
        return [
            {"id": o["id"], "status": o["status"], "total": o["total"]}
            for o in self.state["orders"].values()
            if o["customer_id"] == customer_id
        ]

    @tool
    def get_order(self, order_id: str) -> dict[str, Any]:
        """Get an order's details: items, status, shipping address and total.

        Args:
            order_id: Order id, like "O-5001".
        """
        order = self._order(order_id)
        return {**order, "items": [dict(line) for line in order["items"]]}

    @tool
    def search_products(self, query: str) -> list[dict[str, Any]]:
        """Search products whose name or category contains the query (case-insensitive).

        Args:
            query: Words to look for, like "mug" or "kitchen".
        """
        needle = query.strip().lower()
        if not needle:
            raise ToolError("query must not be empty.")
        return [
            dict(p)
            for p in self.state["products"].values()
            if needle in p["name"].lower() or needle == p["category"]
        ]

    @tool
    def get_product(self, product_id: str) -> dict[str, Any]:
        """Get a product's details: name, category, price and units in stock.

        Args:
            product_id: Product id, like "P-201".
        """
        return dict(self._product(product_id))

    @tool
    def place_order(self, customer_id: str, product_id: str, quantity: int) -> dict[str, Any]:
        """Place a new order of one product for a customer, shipped to their address.

        Args:
            customer_id: Customer id, like "C-1001".
            product_id: Product id, like "P-201".
            quantity: Number of units, 1 to 10.
        """
        customer = self._customer(customer_id)
        product = self._product(product_id)
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ToolError(f"quantity must be between 1 and {MAX_QUANTITY}, got {quantity}.")
        if product["stock"] < quantity:
            raise ToolError(
                f"Only {product['stock']} unit(s) of {product['name']} ({product_id}) in stock; "
                f"cannot order {quantity}."
            )
        oid = f"O-{self.state['next_order']}"
        self.state["next_order"] += 1
        product["stock"] -= quantity
        line = {"product_id": product_id, "quantity": quantity, "unit_price": product["price"]}
        self.state["orders"][oid] = {
            "id": oid,
            "customer_id": customer_id,
            "items": [line],
            "status": "pending",
            "address": customer["address"],
            "total": _money(product["price"] * quantity),
        }
        return {"order_id": oid, "status": "pending", "total": self.state["orders"][oid]["total"]}

    @tool
    def cancel_order(self, order_id: str, reason: CancelReason) -> dict[str, Any]:
        """Cancel a pending order; its items go back into stock.

        Args:
            order_id: Order id, like "O-5001".
            reason: Why the customer cancels.
        """
        order = self._order(order_id)
        if order["status"] != "pending":
            raise ToolError(
                f"Order {order_id} is {order['status']}; only pending orders can be cancelled."
            )
        for line in order["items"]:
            if line["product_id"] in self.state["products"]:
                self.state["products"][line["product_id"]]["stock"] += line["quantity"]
        order["status"] = "cancelled"
        order["cancel_reason"] = reason
        return {"order_id": order_id, "status": "cancelled"}

    @tool
    def update_order_address(self, order_id: str, address: str) -> dict[str, Any]:
        """Change the shipping address of a pending order.

        Args:
            order_id: Order id, like "O-5001".
            address: The new street address.
        """
        order = self._order(order_id)
        if not address.strip():
            raise ToolError("address must not be empty.")
        if order["status"] != "pending":
            raise ToolError(
                f"Order {order_id} is {order['status']}; only a pending order's address can change."
            )
        order["address"] = address.strip()
        return {"order_id": order_id, "address": order["address"]}

    @tool
    def return_order(self, order_id: str) -> dict[str, Any]:
        """Return a delivered order.

        Args:
            order_id: Order id, like "O-5001".
        """
        order = self._order(order_id)
        if order["status"] != "delivered":
            raise ToolError(
                f"Order {order_id} is {order['status']}; only delivered orders can be returned."
            )
        order["status"] = "returned"
        return {"order_id": order_id, "status": "returned"}

    @tool
    def update_customer_email(self, customer_id: str, email: str) -> dict[str, Any]:
        """Change a customer's email address.

        Args:
            customer_id: Customer id, like "C-1001".
            email: The new email address.
        """
        customer = self._customer(customer_id)
        local, _, host = email.strip().partition("@")
        if not local or "." not in host or " " in email.strip():
            raise ToolError(f"{email!r} is not a valid email address.")
        customer["email"] = email.strip()
        return {"customer_id": customer_id, "email": customer["email"]}
