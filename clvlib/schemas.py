"""Names defined once: the raw files, their columns, the event types and the id columns.

The bottom layer: every other module may import this one; it imports nothing from clvlib.
"""

from __future__ import annotations

__all__ = [
    "CUSTOMER",
    "USER",
    "OLIST_FILES",
    "CLICKSTREAM_FILE",
    "EXPECTED_FILES",
    "REQUIRED_TABLES",
    "DEMO_MARKER",
    "EXPECTED_SCHEMAS",
    "EVENT_TYPES",
    "KEY_FILES",
]

#: The person: one id column name through the whole library (Olist's ``customer_unique_id``;
#: Olist's ``customer_id`` is issued anew for every order and is only read by the data layer).
CUSTOMER = "customer_unique_id"
#: The clickstream user.
USER = "UserID"

#: Logical table name -> file name exactly as Kaggle ships it.
OLIST_FILES: dict[str, str] = {
    "customers": "olist_customers_dataset.csv",
    "orders": "olist_orders_dataset.csv",
    "order_items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "reviews": "olist_order_reviews_dataset.csv",
    "products": "olist_products_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "geolocation": "olist_geolocation_dataset.csv",
    "category_translation": "product_category_name_translation.csv",
}
CLICKSTREAM_FILE = "ecommerce_clickstream_transactions.csv"
EXPECTED_FILES: dict[str, str] = {**OLIST_FILES, "clickstream": CLICKSTREAM_FILE}

#: Tables the pipeline cannot run without (geolocation, sellers, ... are optional).
REQUIRED_TABLES = ("customers", "orders", "payments", "clickstream")

#: File written into a generated demo folder; reports use it to label demo data.
DEMO_MARKER = "DEMO_DATA.json"

#: Columns every raw file is expected to have (the Kaggle schemas).
EXPECTED_SCHEMAS: dict[str, list[str]] = {
    "customers": ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state"],
    "orders": ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
               "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"],
    "order_items": ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price",
                    "freight_value"],
    "payments": ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
    "reviews": ["review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
                "review_creation_date", "review_answer_timestamp"],
    "products": ["product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
                 "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm",
                 "product_width_cm"],
    "sellers": ["seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"],
    "geolocation": ["geolocation_zip_code_prefix", "geolocation_lat", "geolocation_lng", "geolocation_city",
                    "geolocation_state"],
    "category_translation": ["product_category_name", "product_category_name_english"],
    "clickstream": ["UserID", "SessionID", "Timestamp", "EventType", "ProductID", "Amount", "Outcome"],
}

#: The clickstream's event types.
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "purchase", "click", "login", "logout")

#: File names searched for a real customer <-> user key in the raw folder.
KEY_FILES = ("user_key.csv", "demo_user_key.csv")
