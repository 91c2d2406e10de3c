"""Seeded synthetic demo data with the exact file layout of the two Kaggle downloads.

:func:`generate_demo` writes every Olist CSV (same file names, same columns in the same
order) and the clickstream CSV into one folder, so the whole pipeline runs without a
download. Unlike the Kaggle pair, the demo world has a real answer key:

* every person (``customer_unique_id``) has hidden traits -- a purchase rate, a dropout
  time and a spend level -- and buys according to them, buy-till-you-die style
  (Pareto/NBD-like: Poisson repeat purchases while alive, exponential lifetime, gamma
  heterogeneity; lognormal spend);
* about 70% of persons have a clickstream ``UserID``, whose sessions are driven by the
  same traits. The customer <-> user key is written to ``demo_user_key.csv`` beside the
  data (the ``key`` mapping method reads it);
* the hidden traits go to ``truth_dir`` (``demo_truth.csv`` + ``demo_truth.json``),
  *outside* the data folder, so the data stages cannot see them.
  :func:`true_expected_value` turns them into each person's expected spend in a window,
  the ceiling an evaluation compares models with.

The marginal shapes are calibrated on the real Olist files (measured with pandas, see the
constants below): one-time buyers ~97% of persons, order value median ~105 BRL with a
heavy right tail, the monthly volume curve with the Black Friday 2017 peak and the
truncated September/October 2018, order statuses, payments, review scores and the
customer state mix. Nothing of the real data is copied: category and city names are public
facts, everything else is drawn from seeded random numbers.

Everything is vectorised numpy; the same ``seed`` and ``n_customers`` give byte-identical
files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clvlib.io import parse_datetimes, parse_numbers, validate_columns, write_csv_atomic, write_json_atomic
from clvlib.schemas import EVENT_TYPES
from clvlib.schemas import EXPECTED_SCHEMAS
from clvlib.schemas import CLICKSTREAM_FILE, DEMO_MARKER, OLIST_FILES

__all__ = [
    "generate_demo",
    "true_expected_value",
    "load_truth",
    "visible_days",
    "TRUTH_FILE",
    "TRUTH_JSON",
    "USER_KEY_FILE",
    "TRUTH_COLUMNS",
    "MIN_CUSTOMERS",
]

TRUTH_FILE = "demo_truth.csv"
TRUTH_JSON = "demo_truth.json"
USER_KEY_FILE = "demo_user_key.csv"
MIN_CUSTOMERS = 100
_MAX_CUSTOMERS = 2_000_000

#: Columns of ``demo_truth.csv`` and what they mean (also written to ``demo_truth.json``).
TRUTH_COLUMNS: dict[str, str] = {
    "customer_unique_id": "The person (Olist customer_unique_id).",
    "UserID": "Clickstream UserID of the person; empty when the person has no clickstream account.",
    "first_purchase": "Timestamp of the person's first order (always in the data).",
    "alive_until": "Dropout ('death') time: no purchases after it. May lie far past the end of data "
    "(capped at 2099-12-31).",
    "purchase_rate_per_day": "lambda: repeat-purchase occasions per day while alive (Poisson).",
    "dropout_rate_per_day": "mu: rate of the exponential lifetime that set alive_until.",
    "spend_mean": "Mean order value in BRL (sum of payment_value of one order), the person's spend level.",
    "session_rate_per_day": "Clickstream browsing sessions per day while alive (0 without a UserID).",
    "customer_state": "State the person lives in.",
    "n_orders": "Orders of the person written to the demo data (any status).",
}

# --------------------------------------------------------------------------------------
# Calendar. Internally every time is float seconds since _ORIGIN.
# --------------------------------------------------------------------------------------
_ORIGIN = np.datetime64("2016-09-01T00:00:00", "s")
_PROCESS_END = np.datetime64("2018-10-18T00:00:00", "s")  # no order on or after this instant
_SNAPSHOT = np.datetime64("2018-10-17T23:59:59", "s")  # no timestamp after this
_CLICK_END = np.datetime64("2018-09-01T00:00:00", "s")  # clickstream export ends here
_FORCE_CANCEL_FROM = np.datetime64("2018-08-30", "D")  # later orders are only ever seen cancelled
_DAY = 86_400.0

#: Share of orders by purchase month, measured on the real orders file (99,441 orders).
_MONTH_SHARES: dict[str, float] = {
    "2016-09": 0.00004, "2016-10": 0.00326, "2016-11": 0.0, "2016-12": 0.00001,
    "2017-01": 0.00805, "2017-02": 0.01790, "2017-03": 0.02697, "2017-04": 0.02418,
    "2017-05": 0.03721, "2017-06": 0.03263, "2017-07": 0.04049, "2017-08": 0.04355,
    "2017-09": 0.04309, "2017-10": 0.04657, "2017-11": 0.07586, "2017-12": 0.05705,
    "2018-01": 0.07310, "2018-02": 0.06766, "2018-03": 0.07252, "2018-04": 0.06978,
    "2018-05": 0.06912, "2018-06": 0.06202, "2018-07": 0.06327, "2018-08": 0.06549,
    "2018-09": 0.00016, "2018-10": 0.00004,
}
#: Real October 2016 orders all fall on 3-10 October (the launch week).
_ACTIVE_DAYS: dict[str, tuple[int, int]] = {"2016-10": (3, 10)}
#: Day multipliers around Black Friday 2017 (2017-11-24: 1,176 real orders vs ~180 on a normal day).
_SPECIAL_DAYS: dict[str, float] = {
    "2017-11-20": 1.25, "2017-11-21": 1.25, "2017-11-22": 1.1, "2017-11-23": 1.55,
    "2017-11-24": 6.5, "2017-11-25": 2.8, "2017-11-26": 2.2, "2017-11-27": 2.2,
    "2017-11-28": 2.1, "2017-11-29": 1.8, "2017-11-30": 1.5,
}
#: Share of orders that reach the data, by purchase day: the real data thins out from
#: 22 August 2018 and holds only a few (cancelled) orders after 29 August.
_VISIBILITY: dict[str, float] = {
    "2018-08-22": 0.64, "2018-08-23": 0.50, "2018-08-24": 0.37, "2018-08-25": 0.36,
    "2018-08-26": 0.37, "2018-08-27": 0.22, "2018-08-28": 0.15, "2018-08-29": 0.05,
    "2018-08-30": 0.014, "2018-08-31": 0.004,
}
_VISIBILITY_AFTER = 0.0016  # 1 Sep .. 17 Oct 2018
_VISIBILITY_AFTER_FROM = "2018-09-01"
#: Monday..Sunday multipliers and purchase-hour weights (real orders).
_DOW_MULT = np.array([1.14, 1.13, 1.09, 1.04, 0.99, 0.76, 0.85])
_HOUR_WEIGHTS = np.array([
    0.024, 0.012, 0.005, 0.003, 0.002, 0.002, 0.005, 0.012, 0.030, 0.048, 0.062, 0.066,
    0.060, 0.065, 0.066, 0.065, 0.067, 0.062, 0.058, 0.060, 0.062, 0.063, 0.059, 0.042,
])

# --------------------------------------------------------------------------------------
# Hidden traits (buy-till-you-die) and spend.
# --------------------------------------------------------------------------------------
#: lambda ~ Gamma(shape=_R, rate=_ALPHA) per day; mu ~ Gamma(shape=_S, rate=_BETA) per day.
_R, _ALPHA = 0.2, 1200.0
_S, _BETA = 2.0, 400.0
#: Probability that a purchase occasion yields a second order the same day (real: ~30% of
#: repeat gaps are under a day).
_SPLIT_P = 0.0095
#: log spend_mean ~ N(_SPEND_MU, _SPEND_SIGMA) plus, for _SPEND_TAIL_P of persons, an
#: Exp(_SPEND_TAIL_SCALE) boost; order value = spend_mean * W, W lognormal with mean 1.
_SPEND_MU, _SPEND_SIGMA = 4.72, 0.52
_SPEND_TAIL_P, _SPEND_TAIL_SCALE = 0.18, 0.6
_ORDER_SIGMA = 0.52
#: Items per order (real: 1 item in 89.4% of orders, up to 21).
_ITEMS_PMF = {1: 0.8940, 2: 0.0756, 3: 0.0133, 4: 0.0051, 5: 0.0021, 6: 0.0020, 7: 0.0003,
              8: 0.0002, 10: 0.0002, 12: 0.0001, 15: 0.0001}

# --------------------------------------------------------------------------------------
# Order life cycle, payments, reviews (real proportions).
# --------------------------------------------------------------------------------------
_STATUS_P = {"delivered": 0.97020, "shipped": 0.01113, "canceled": 0.00629, "unavailable": 0.00612,
             "invoiced": 0.00316, "processing": 0.00303, "created": 0.00005, "approved": 0.00002}
#: Share of orders of a status that carry no item rows (unavailable orders almost never do).
_NO_ITEMS_P = {"unavailable": 0.99, "created": 1.0, "canceled": 0.26, "invoiced": 0.006}
_MULTI_PAYMENT_P = 0.0298
_N_PAYMENTS_PMF = {2: 0.805, 3: 0.101, 4: 0.036, 5: 0.017, 6: 0.012, 7: 0.009, 8: 0.0045,
                   9: 0.0035, 10: 0.003, 12: 0.004, 15: 0.002, 20: 0.001, 26: 0.001}
_SINGLE_TYPE_P = {"credit_card": 0.7667, "boleto": 0.2051, "debit_card": 0.0158, "voucher": 0.0124}
_MULTI_FIRST_CARD_P = 0.856
#: Credit-card installments by order value band (BRL upper bounds), real proportions.
_INSTALLMENT_BANDS = np.array([50.0, 100.0, 200.0, 400.0])
_INSTALLMENT_VALUES = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12])
_INSTALLMENT_P = np.array([
    [0.613, 0.150, 0.134, 0.101, 0.002, 0, 0, 0, 0, 0, 0],
    [0.440, 0.155, 0.134, 0.075, 0.074, 0.052, 0.029, 0.028, 0.013, 0, 0],
    [0.234, 0.217, 0.154, 0.088, 0.080, 0.059, 0.022, 0.052, 0.006, 0.082, 0.006],
    [0.140, 0.115, 0.132, 0.137, 0.099, 0.073, 0.024, 0.122, 0.006, 0.143, 0.009],
    [0.095, 0.052, 0.071, 0.074, 0.075, 0.080, 0.025, 0.176, 0.019, 0.316, 0.017],
])
_INTEREST_P = 0.0025  # card orders whose payments exceed the items (installment interest)
_NO_PAYMENT_RATE = 5e-5  # orders with no payment row at all (real: 1 in 99,441)
_ZERO_VOUCHER_RATE = 1e-4  # orders with an extra 0.00 voucher payment (real: 9 zero payments)
#: Review score distribution for on-time deliveries, late deliveries and undelivered orders.
_SCORE_P = {
    "ontime": [0.0660, 0.0263, 0.0799, 0.2034, 0.6244],
    "late": [0.4616, 0.0787, 0.1136, 0.1239, 0.2222],
    "nd": [0.7049, 0.0733, 0.0761, 0.0541, 0.0916],
}
_NO_REVIEW_P = 0.003
_SECOND_REVIEW_P = 0.0055
_TITLES = {
    "pos": ["Recomendo", "Muito bom", "Excelente", "Ótimo", "Super recomendo", "Bom", "Perfeito"],
    "mid": ["Regular", "Ok", "Razoável", "Bom, mas demorou"],
    "neg": ["Não recebi", "Péssimo", "Produto errado", "Ruim", "Atraso na entrega", "Não recomendo"],
}
_MESSAGES = {
    "pos": ["Produto chegou antes do prazo, muito bom.", "Muito bom", "Recomendo a loja",
            "Ótimo produto, entrega rápida", "Tudo certo, chegou bem embalado.", "Excelente qualidade"],
    "mid": ["O produto é bom, mas a entrega atrasou.", "Razoável", "Esperava mais pelo preço",
            "Chegou com a embalagem amassada"],
    "neg": ["Ainda não recebi o produto.", "Veio errado, quero devolver", "Produto de baixa qualidade",
            "Comprei dois e só chegou um", "Péssimo atendimento, não recomendo"],
}

# --------------------------------------------------------------------------------------
# Geography and catalogue (public facts: state shares of real customers, city names,
# approximate zip ranges and coordinates).
# --------------------------------------------------------------------------------------
_STATE_P = {"SP": 0.4198, "RJ": 0.1292, "MG": 0.1170, "RS": 0.0550, "PR": 0.0507, "SC": 0.0366,
            "BA": 0.0340, "DF": 0.0215, "ES": 0.0204, "GO": 0.0203, "PE": 0.0166, "CE": 0.0134,
            "PA": 0.0098, "MT": 0.0091, "MA": 0.0075, "MS": 0.0072, "PB": 0.0054, "PI": 0.0050,
            "RN": 0.0049, "AL": 0.0042, "SE": 0.0035, "TO": 0.0028, "RO": 0.0025, "AM": 0.0015,
            "AC": 0.0008, "AP": 0.0007, "RR": 0.0005}
_SELLER_STATE_P = {"SP": 0.597, "PR": 0.113, "MG": 0.079, "SC": 0.061, "RJ": 0.055, "RS": 0.042,
                   "GO": 0.013, "DF": 0.010, "ES": 0.008, "BA": 0.006, "CE": 0.004, "PE": 0.003,
                   "MS": 0.002, "MT": 0.002, "RN": 0.002, "PB": 0.002}
#: state, city, weight within state, zip prefix range (inclusive), latitude, longitude.
_CITIES: list[tuple[str, str, float, int, int, float, float]] = [
    ("SP", "sao paulo", 0.37, 1000, 5999, -23.55, -46.63),
    ("SP", "campinas", 0.035, 13000, 13149, -22.91, -47.06),
    ("SP", "guarulhos", 0.028, 7000, 7399, -23.45, -46.53),
    ("SP", "sao bernardo do campo", 0.022, 9600, 9899, -23.69, -46.56),
    ("SP", "santo andre", 0.019, 9000, 9299, -23.66, -46.53),
    ("SP", "osasco", 0.018, 6000, 6299, -23.53, -46.79),
    ("SP", "santos", 0.017, 11000, 11099, -23.96, -46.33),
    ("SP", "sao jose dos campos", 0.015, 12200, 12249, -23.18, -45.89),
    ("SP", "sorocaba", 0.015, 18000, 18109, -23.50, -47.46),
    ("SP", "ribeirao preto", 0.012, 14000, 14114, -21.18, -47.81),
    ("SP", "mogi das cruzes", 0.010, 8700, 8899, -23.52, -46.19),
    ("SP", "jundiai", 0.010, 13200, 13219, -23.19, -46.88),
    ("SP", "sao jose do rio preto", 0.009, 15000, 15099, -20.81, -49.38),
    ("SP", "barueri", 0.008, 6400, 6499, -23.51, -46.88),
    ("SP", "piracicaba", 0.007, 13400, 13429, -22.73, -47.65),
    ("SP", "bauru", 0.006, 17000, 17099, -22.31, -49.06),
    ("SP", "franca", 0.005, 14400, 14414, -20.54, -47.40),
    ("RJ", "rio de janeiro", 0.53, 20000, 23799, -22.91, -43.17),
    ("RJ", "niteroi", 0.066, 24000, 24399, -22.88, -43.10),
    ("RJ", "nova iguacu", 0.04, 26000, 26099, -22.76, -43.45),
    ("RJ", "sao goncalo", 0.05, 24400, 24799, -22.83, -43.05),
    ("RJ", "duque de caxias", 0.04, 25000, 25099, -22.79, -43.31),
    ("RJ", "petropolis", 0.025, 25600, 25779, -22.51, -43.18),
    ("RJ", "campos dos goytacazes", 0.02, 28000, 28099, -21.75, -41.32),
    ("MG", "belo horizonte", 0.24, 30000, 31999, -19.92, -43.94),
    ("MG", "contagem", 0.04, 32000, 32399, -19.93, -44.05),
    ("MG", "juiz de fora", 0.04, 36000, 36099, -21.76, -43.35),
    ("MG", "uberlandia", 0.035, 38400, 38414, -18.92, -48.28),
    ("MG", "betim", 0.02, 32600, 32699, -19.97, -44.20),
    ("MG", "montes claros", 0.02, 39400, 39409, -16.73, -43.86),
    ("RS", "porto alegre", 0.25, 90000, 91999, -30.03, -51.23),
    ("RS", "caxias do sul", 0.06, 95000, 95129, -29.17, -51.18),
    ("RS", "canoas", 0.05, 92000, 92499, -29.92, -51.18),
    ("RS", "pelotas", 0.04, 96000, 96099, -31.77, -52.34),
    ("RS", "santa maria", 0.04, 97000, 97119, -29.69, -53.81),
    ("PR", "curitiba", 0.30, 80000, 82999, -25.43, -49.27),
    ("PR", "londrina", 0.08, 86000, 86099, -23.31, -51.16),
    ("PR", "maringa", 0.06, 87000, 87099, -23.42, -51.94),
    ("PR", "ponta grossa", 0.04, 84000, 84099, -25.09, -50.16),
    ("PR", "cascavel", 0.03, 85800, 85829, -24.96, -53.46),
    ("SC", "florianopolis", 0.16, 88000, 88099, -27.59, -48.55),
    ("SC", "joinville", 0.09, 89200, 89239, -26.30, -48.85),
    ("SC", "blumenau", 0.08, 89000, 89099, -26.92, -49.07),
    ("SC", "sao jose", 0.06, 88100, 88124, -27.60, -48.63),
    ("SC", "itajai", 0.04, 88300, 88319, -26.91, -48.66),
    ("BA", "salvador", 0.37, 40000, 42599, -12.97, -38.50),
    ("BA", "feira de santana", 0.06, 44000, 44099, -12.27, -38.97),
    ("BA", "vitoria da conquista", 0.04, 45000, 45099, -14.86, -40.84),
    ("BA", "lauro de freitas", 0.04, 42700, 42749, -12.89, -38.33),
    ("DF", "brasilia", 1.0, 70000, 72799, -15.79, -47.88),
    ("ES", "vitoria", 0.3, 29000, 29099, -20.32, -40.34),
    ("ES", "vila velha", 0.3, 29100, 29129, -20.33, -40.29),
    ("ES", "serra", 0.2, 29160, 29184, -20.13, -40.31),
    ("ES", "cariacica", 0.1, 29140, 29159, -20.26, -40.42),
    ("GO", "goiania", 0.5, 74000, 74899, -16.68, -49.25),
    ("GO", "anapolis", 0.1, 75000, 75159, -16.33, -48.95),
    ("GO", "aparecida de goiania", 0.1, 74900, 74999, -16.82, -49.25),
    ("PE", "recife", 0.4, 50000, 52999, -8.05, -34.88),
    ("PE", "jaboatao dos guararapes", 0.1, 54000, 54499, -8.11, -35.01),
    ("PE", "olinda", 0.08, 53000, 53399, -8.01, -34.85),
    ("PE", "petrolina", 0.05, 56300, 56339, -9.39, -40.50),
    ("CE", "fortaleza", 0.6, 60000, 61599, -3.73, -38.52),
    ("CE", "caucaia", 0.05, 61600, 61699, -3.73, -38.66),
    ("CE", "juazeiro do norte", 0.05, 63000, 63099, -7.21, -39.31),
    ("PA", "belem", 0.4, 66000, 66999, -1.46, -48.50),
    ("PA", "ananindeua", 0.1, 67000, 67199, -1.37, -48.37),
    ("PA", "santarem", 0.06, 68000, 68099, -2.44, -54.71),
    ("MT", "cuiaba", 0.4, 78000, 78099, -15.60, -56.10),
    ("MT", "varzea grande", 0.12, 78100, 78159, -15.65, -56.13),
    ("MT", "rondonopolis", 0.08, 78700, 78749, -16.47, -54.64),
    ("MA", "sao luis", 0.5, 65000, 65099, -2.53, -44.30),
    ("MA", "imperatriz", 0.1, 65900, 65919, -5.53, -47.49),
    ("MS", "campo grande", 0.55, 79000, 79129, -20.47, -54.62),
    ("MS", "dourados", 0.1, 79800, 79849, -22.22, -54.81),
    ("PB", "joao pessoa", 0.5, 58000, 58099, -7.12, -34.86),
    ("PB", "campina grande", 0.15, 58400, 58449, -7.23, -35.88),
    ("PI", "teresina", 0.6, 64000, 64099, -5.09, -42.80),
    ("PI", "parnaiba", 0.06, 64200, 64219, -2.90, -41.78),
    ("RN", "natal", 0.55, 59000, 59159, -5.79, -35.21),
    ("RN", "mossoro", 0.1, 59600, 59649, -5.19, -37.34),
    ("AL", "maceio", 0.6, 57000, 57099, -9.67, -35.74),
    ("AL", "arapiraca", 0.08, 57300, 57319, -9.75, -36.66),
    ("SE", "aracaju", 1.0, 49000, 49099, -10.91, -37.07),
    ("TO", "palmas", 0.5, 77000, 77299, -10.18, -48.33),
    ("TO", "araguaina", 0.2, 77800, 77829, -7.19, -48.21),
    ("RO", "porto velho", 0.5, 76800, 76849, -8.76, -63.90),
    ("RO", "ji-parana", 0.15, 76900, 76919, -10.88, -61.95),
    ("AM", "manaus", 1.0, 69000, 69099, -3.12, -60.02),
    ("AC", "rio branco", 1.0, 69900, 69924, -9.97, -67.81),
    ("AP", "macapa", 1.0, 68900, 68914, 0.03, -51.07),
    ("RR", "boa vista", 1.0, 69300, 69339, 2.82, -60.67),
]
#: Portuguese category, English translation (None: absent from the translation file, as
#: ``pc_gamer`` is in the real data), share of products (real).
_CATEGORIES: list[tuple[str, str | None, float]] = [
    ("cama_mesa_banho", "bed_bath_table", 0.0937), ("esporte_lazer", "sports_leisure", 0.0886),
    ("moveis_decoracao", "furniture_decor", 0.0822), ("beleza_saude", "health_beauty", 0.0756),
    ("utilidades_domesticas", "housewares", 0.0722), ("automotivo", "auto", 0.0587),
    ("informatica_acessorios", "computers_accessories", 0.0507), ("brinquedos", "toys", 0.0436),
    ("relogios_presentes", "watches_gifts", 0.0411), ("telefonia", "telephony", 0.0351),
    ("bebes", "baby", 0.0284), ("perfumaria", "perfumery", 0.0268), ("papelaria", "stationery", 0.0263),
    ("fashion_bolsas_e_acessorios", "fashion_bags_accessories", 0.0263),
    ("cool_stuff", "cool_stuff", 0.0244), ("ferramentas_jardim", "garden_tools", 0.0233),
    ("pet_shop", "pet_shop", 0.0222), ("eletronicos", "electronics", 0.0160),
    ("construcao_ferramentas_construcao", "construction_tools_construction", 0.0124),
    ("eletrodomesticos", "home_appliances", 0.0114), ("malas_acessorios", "luggage_accessories", 0.0108),
    ("consoles_games", "consoles_games", 0.0098), ("moveis_escritorio", "office_furniture", 0.0096),
    ("instrumentos_musicais", "musical_instruments", 0.0089),
    ("eletroportateis", "small_appliances", 0.0071), ("casa_construcao", "home_construction", 0.0070),
    ("livros_interesse_geral", "books_general_interest", 0.0067),
    ("fashion_calcados", "fashion_shoes", 0.0053), ("moveis_sala", "furniture_living_room", 0.0048),
    ("climatizacao", "air_conditioning", 0.0038), ("pc_gamer", None, 0.0003),
]
_NO_CATEGORY_P = 0.0185  # products without category, name and description lengths, photos

# --------------------------------------------------------------------------------------
# Clickstream.
# --------------------------------------------------------------------------------------
_LINKED_P = 0.70  # persons with a clickstream UserID
_EXTRA_USERS_P = 0.10  # clickstream-only users (never bought), relative to linked persons
_SESSION_BASE = 0.002  # browsing sessions/day while alive at lambda -> 0
_SESSION_SLOPE = 0.30  # ... plus _SESSION_SLOPE * sqrt(lambda)
_SESSION_LINEAR = 4.0  # ... plus _SESSION_LINEAR * lambda
_SESSION_DEAD = 0.00025  # browsing sessions/day after alive_until
_PRE_BROWSE_DAYS = 40.0  # mean days of browsing before the first purchase
_ORDER_SESSION_P = 0.85  # orders of linked persons that have a session in the clickstream
_INTENT_HALF = 0.002  # lambda at which add_to_cart / purchase shares are half-way up
_EVENT_TYPES = np.array(EVENT_TYPES)

#: The Kaggle schemas, column order included (one definition, shared with the inventory).
_OLIST_COLUMNS: dict[str, list[str]] = {k: v for k, v in EXPECTED_SCHEMAS.items() if k != "clickstream"}
_CLICK_COLUMNS = EXPECTED_SCHEMAS["clickstream"]


# ======================================================================================
# Small helpers
# ======================================================================================
def _secs(t: np.datetime64 | str) -> float:
    """Seconds from the internal origin to ``t``."""
    return float((np.datetime64(t, "s") - _ORIGIN).astype("int64"))


def _to_datetime(seconds: np.ndarray) -> pd.Series:
    """Float seconds since the origin (NaN allowed) -> datetime64[s] values (NaT for NaN)."""
    s = np.asarray(seconds, dtype="float64")
    out = np.full(s.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(s)
    out[ok] = _ORIGIN + np.floor(s[ok]).astype("int64").astype("timedelta64[s]")
    return pd.Series(out)


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 32-character lowercase hex ids (like Olist's md5-style ids)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        need = n - len(out)
        h = rng.bytes(16 * need).hex()
        for i in range(0, 32 * need, 32):
            s = h[i : i + 32]
            if s not in seen:
                seen.add(s)
                out.append(s)
    return np.array(out, dtype=object)


def _pmf(d: dict[Any, float]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(list(d.keys()))
    p = np.array(list(d.values()), dtype="float64")
    return keys, p / p.sum()


def _lognormal_median(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, n)


def _split_cents(rng: np.random.Generator, total_cents: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Split each total (integer cents) into ``counts`` positive-ish random parts that add up exactly."""
    owner = np.repeat(np.arange(len(counts)), counts)
    w = rng.gamma(1.0, 1.0, owner.size)
    wsum = np.bincount(owner, weights=w, minlength=len(counts))
    parts = np.floor(w / wsum[owner] * total_cents[owner]).astype("int64")
    rest = total_cents - np.bincount(owner, weights=parts, minlength=len(counts)).astype("int64")
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    parts[first] += rest
    return parts


def _day_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per calendar day from the origin to the process end: day, arrival weight, visibility."""
    days = np.arange(np.datetime64(_ORIGIN, "D"), np.datetime64(_PROCESS_END, "D"))
    months = days.astype("datetime64[M]").astype(str)
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    dow = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    vis = np.ones(days.size)
    day_str = days.astype(str)
    for d, v in _VISIBILITY.items():
        vis[day_str == d] = v
    vis[days >= np.datetime64(_VISIBILITY_AFTER_FROM)] = _VISIBILITY_AFTER
    special = np.ones(days.size)
    for d, m in _SPECIAL_DAYS.items():
        special[day_str == d] = m
    active = np.ones(days.size)
    for m, (lo, hi) in _ACTIVE_DAYS.items():
        active[(months == m) & ((dom < lo) | (dom > hi))] = 0.0
    base = _DOW_MULT[dow] * special * active * np.where(vis < 1.0, vis, 1.0)
    weight = np.zeros(days.size)
    for m, share in _MONTH_SHARES.items():
        sel = months == m
        total = base[sel].sum()
        if share > 0 and total > 0:
            weight[sel] = share * base[sel] / total
    return days, weight / weight.sum(), vis


def visible_days(a: np.ndarray | pd.Series, b: np.ndarray | pd.Series) -> np.ndarray:
    """Visibility-weighted days between ``a`` and ``b`` (timestamps; 0 where ``b <= a``).

    Repeat purchases of the demo world happen at a constant rate while a person is alive,
    but only a share of them reaches the data at the very end (late August 2018 onwards,
    mirroring the real data) and none after 17 October 2018. This integrates that share
    over time, so ``purchase_rate_per_day * visible_days(a, b)`` is the expected number of
    purchase occasions seen in ``(a, b]``.

    Parameters
    ----------
    a, b
        Interval bounds, anything :func:`pandas.to_datetime` reads.

    Returns
    -------
    numpy.ndarray
        Float days, one per interval.
    """
    days, _, vis = _day_table()
    knots = np.concatenate([[0.0], np.cumsum(vis)])  # cumulative visible days at day boundaries
    pos = np.arange(knots.size, dtype="float64")

    def at(x: Any) -> np.ndarray:
        t = pd.to_datetime(pd.Series(np.asarray(x).ravel())).to_numpy(dtype="datetime64[s]")
        d = (t - _ORIGIN).astype("int64") / _DAY
        return np.interp(d, pos, knots)

    lo, hi = at(a), at(b)
    return np.maximum(hi - lo, 0.0)


# ======================================================================================
# The world
# ======================================================================================
def _persons(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Hidden traits and first purchase of ``n`` persons."""
    days, weight, _ = _day_table()
    day_idx = rng.choice(days.size, size=n, p=weight)
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    first = day_idx * _DAY + hour * 3600.0 + np.floor(rng.random(n) * 3600.0)
    lam = rng.gamma(_R, 1.0 / _ALPHA, n)
    mu = rng.gamma(_S, 1.0 / _BETA, n)
    life = rng.exponential(1.0, n) / mu
    alive = np.minimum(first + np.floor(life * _DAY), _secs("2099-12-31T00:00:00"))
    log_spend = rng.normal(_SPEND_MU, _SPEND_SIGMA, n)
    tail = rng.random(n) < _SPEND_TAIL_P
    log_spend = log_spend + np.where(tail, rng.exponential(_SPEND_TAIL_SCALE, n), 0.0)
    spend = np.round(np.exp(log_spend), 2)
    states, sp = _pmf(_STATE_P)
    state = states[rng.choice(states.size, size=n, p=sp)]
    return pd.DataFrame(
        {"first": first, "alive": alive, "lam": lam, "mu": mu, "spend": spend, "state": state}
    )


def _occasions(rng: np.random.Generator, persons: pd.DataFrame) -> pd.DataFrame:
    """All orders: first purchases, visible repeat occasions and same-day split orders."""
    _, _, vis = _day_table()
    first = persons["first"].to_numpy()
    end = np.minimum(persons["alive"].to_numpy(), _secs(_PROCESS_END))
    span = np.maximum(end - first, 0.0)
    k = rng.poisson(persons["lam"].to_numpy() * span / _DAY)
    owner = np.repeat(np.arange(len(persons)), k)
    t = first[owner] + 1.0 + np.floor(rng.random(owner.size) * np.maximum(span[owner] - 2.0, 0.0))
    keep = rng.random(owner.size) < vis[np.minimum((t // _DAY).astype(int), vis.size - 1)]
    owner, t = owner[keep], t[keep]
    owner = np.concatenate([np.arange(len(persons)), owner])
    t = np.concatenate([first, t])
    split = rng.random(owner.size) < _SPLIT_P
    day_end = (t // _DAY + 1.0) * _DAY - 1.0
    t_split = np.minimum(t[split] + np.floor(rng.uniform(120, 4 * 3600, split.sum())), day_end[split])
    owner = np.concatenate([owner, owner[split]])
    t = np.concatenate([t, t_split])
    order = np.lexsort((t, owner))
    return pd.DataFrame({"person": owner[order], "t": t[order]})


def _order_values(rng: np.random.Generator, spend: np.ndarray) -> np.ndarray:
    """Order values (BRL) with mean ``spend``: spend * lognormal noise of mean 1."""
    w = rng.lognormal(-0.5 * _ORDER_SIGMA**2, _ORDER_SIGMA, spend.size)
    return spend * w


def _lifecycle(rng: np.random.Generator, t: np.ndarray, first_type: np.ndarray) -> pd.DataFrame:
    """Status and status-consistent timestamps (seconds since origin; NaN = empty)."""
    n = t.size
    statuses, sp = _pmf(_STATUS_P)
    status = statuses[rng.choice(statuses.size, size=n, p=sp)].astype(object)
    late_day = (np.datetime64(_ORIGIN, "D") + (t // _DAY).astype("int64")) >= _FORCE_CANCEL_FROM
    status[late_day] = "canceled"
    boleto = first_type == "boleto"
    fast = rng.random(n) < 0.78
    approve_h = np.where(
        boleto,
        _lognormal_median(rng, 29.0, 0.75, n),
        np.where(fast, _lognormal_median(rng, 0.2, 0.6, n), _lognormal_median(rng, 12.0, 1.0, n)),
    )
    approved = t + np.floor(approve_h * 3600.0) + 30.0
    carrier = approved + np.floor(_lognormal_median(rng, 1.8, 0.9, n) * _DAY)
    # Distance drives both the transit time and the promised date (8% arrive late, as in the real data).
    far = rng.normal(0.0, 1.0, n)
    transit = 7.1 * np.exp(0.45 * far) * rng.lognormal(0.0, 0.55, n)
    delivered = carrier + np.floor(transit * _DAY)
    est_days = np.clip(np.round(23.0 * np.exp(0.35 * far) + rng.normal(0.0, 4.0, n)), 3, 70)
    estimated = (t // _DAY + est_days) * _DAY
    has_app = np.isin(status, ["delivered", "shipped", "invoiced", "processing", "unavailable", "approved"])
    has_car = np.isin(status, ["delivered", "shipped"])
    has_del = status == "delivered"
    canc = status == "canceled"
    u = rng.random(n)
    has_app |= canc & (u >= 0.22)
    has_car |= canc & (u >= 0.88)
    has_del |= canc & (u >= 0.99)
    snap = _secs(_SNAPSHOT)
    # Keep the timeline inside the snapshot: not yet delivered / shipped / approved.
    too_late = has_del & (delivered > snap)
    status[too_late & ~canc] = "shipped"
    has_del &= ~too_late
    too_late = has_car & (carrier > snap)
    status[too_late & ~canc] = "processing"
    has_car &= ~too_late
    too_late = has_app & (approved > snap)
    status[too_late & ~canc] = "created"
    has_app &= ~too_late
    return pd.DataFrame({
        "status": status,
        "approved": np.where(has_app, approved, np.nan),
        "carrier": np.where(has_car, carrier, np.nan),
        "delivered": np.where(has_del, delivered, np.nan),
        "estimated": estimated,
    })


def _geo_tables(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cities with their zip prefixes (column ``zips``), and the geolocation table (1-3 rows per prefix)."""
    cities = pd.DataFrame(_CITIES, columns=["state", "city", "w", "lo", "hi", "lat", "lng"])
    state_tot = cities.groupby("state")["w"].transform("sum")
    overall = cities["state"].map(_STATE_P) * cities["w"] / state_tot
    n_zip = np.clip(np.round(overall * 2500), 2, cities["hi"] - cities["lo"] + 1).astype(int)
    zips: list[np.ndarray] = []
    for lo, hi, k in zip(cities["lo"], cities["hi"], n_zip):
        zips.append(np.sort(rng.choice(np.arange(lo, hi + 1), size=k, replace=False)))
    zip_arr = np.concatenate(zips)
    city_of = np.repeat(np.arange(len(cities)), n_zip)
    reps = rng.integers(1, 4, zip_arr.size)
    zr = np.repeat(zip_arr, reps)
    cr = np.repeat(city_of, reps)
    geo = pd.DataFrame({
        "geolocation_zip_code_prefix": pd.Series(zr).map("{:05d}".format),
        "geolocation_lat": cities["lat"].to_numpy()[cr] + rng.normal(0, 0.03, zr.size),
        "geolocation_lng": cities["lng"].to_numpy()[cr] + rng.normal(0, 0.03, zr.size),
        "geolocation_city": cities["city"].to_numpy()[cr],
        "geolocation_state": cities["state"].to_numpy()[cr],
    })
    geo = geo.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(drop=True)
    return cities.assign(zips=zips), geo


def _place(rng: np.random.Generator, cities: pd.DataFrame, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """City index and zip prefix string for people/sellers living in ``states``."""
    city_idx = np.empty(states.size, dtype=int)
    for st, grp in cities.groupby("state"):
        sel = np.flatnonzero(states == st)
        if sel.size:
            p = grp["w"].to_numpy() / grp["w"].sum()
            city_idx[sel] = grp.index.to_numpy()[rng.choice(len(grp), size=sel.size, p=p)]
    zips = np.empty(states.size, dtype=object)
    for ci in np.unique(city_idx):
        sel = np.flatnonzero(city_idx == ci)
        z = cities.at[ci, "zips"]
        zips[sel] = np.char.zfill(rng.choice(z, size=sel.size).astype(str), 5)
    return city_idx, zips


def _catalogue(
    rng: np.random.Generator, ids: np.random.Generator, n_items: int, cities: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Products and sellers.

    Returns products, sellers, the seller index of each product, the product indices
    sorted by a latent list price and those sorted prices (an item picks a product whose
    list price is close to its own price).
    """
    n_prod = max(30, int(np.ceil(n_items / 3.4)))
    n_sell = max(10, n_prod // 10)
    sstates, sp = _pmf(_SELLER_STATE_P)
    seller_state = sstates[rng.choice(sstates.size, size=n_sell, p=sp)]
    s_city, s_zip = _place(rng, cities, seller_state)
    sellers = pd.DataFrame({
        "seller_id": _hex_ids(ids, n_sell),
        "seller_zip_code_prefix": s_zip,
        "seller_city": cities["city"].to_numpy()[s_city],
        "seller_state": seller_state,
    })
    cats = np.array([c[0] for c in _CATEGORIES], dtype=object)
    cp = np.array([c[2] for c in _CATEGORIES])
    cat = cats[rng.choice(cats.size, size=n_prod, p=cp / cp.sum())]
    no_cat = rng.random(n_prod) < _NO_CATEGORY_P
    cat[no_cat] = None
    na_int = pd.array([pd.NA] * n_prod, dtype="Int64")

    def ints(x: np.ndarray, mask: np.ndarray | None = None) -> pd.arrays.IntegerArray:
        arr = pd.array(np.round(x).astype("int64"), dtype="Int64")
        if mask is not None:
            arr[mask] = na_int[mask]
        return arr

    weight = np.clip(_lognormal_median(rng, 700, 1.2, n_prod), 50, 40_000)
    products = pd.DataFrame({
        "product_id": _hex_ids(ids, n_prod),
        "product_category_name": cat,
        "product_name_lenght": ints(np.clip(rng.normal(49, 10, n_prod), 5, 76), no_cat),
        "product_description_lenght": ints(np.clip(_lognormal_median(rng, 600, 0.75, n_prod), 4, 3992), no_cat),
        "product_photos_qty": ints(np.minimum(rng.geometric(0.45, n_prod), 20), no_cat),
        "product_weight_g": ints(weight),
        "product_length_cm": ints(np.clip(rng.normal(30, 14, n_prod), 7, 105)),
        "product_height_cm": ints(np.clip(_lognormal_median(rng, 13, 0.7, n_prod), 2, 105)),
        "product_width_cm": ints(np.clip(rng.normal(23, 10, n_prod), 6, 118)),
    })
    seller_pop = rng.lognormal(0.0, 1.5, n_sell)
    prod_seller = rng.choice(n_sell, size=n_prod, p=seller_pop / seller_pop.sum())
    base_price = _lognormal_median(rng, 75.0, 0.95, n_prod)
    by_price = np.argsort(base_price, kind="stable")
    return products, sellers, prod_seller, by_price, base_price[by_price]


def _items_and_values(
    rng: np.random.Generator, value: np.ndarray, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Items per order, unit price and freight per item (cents), and the order total (cents).

    The order total is what the payments add up to: ``k * (unit price + unit freight)``
    for orders with items, the drawn value for the few orders without item rows.
    """
    n = value.size
    ks, kp = _pmf(_ITEMS_PMF)
    k = ks[rng.choice(ks.size, size=n, p=kp)].astype("int64")
    no_items = np.zeros(n, dtype=bool)
    for st, p in _NO_ITEMS_P.items():
        sel = status == st
        no_items[sel] = rng.random(int(sel.sum())) < p
    k[no_items] = 0
    kk = np.maximum(k, 1)
    freight = np.minimum(_lognormal_median(rng, 17.5, 0.55, n) * (1.0 + 0.35 * (kk - 1)), 0.6 * value)
    unit_freight = np.round(freight / kk * 100.0).astype("int64")
    unit = (value - unit_freight * kk / 100.0) / kk
    u = rng.random(n)
    snapped = np.where(u < 0.45, np.round(unit + 0.10) - 0.10, np.where(u < 0.70, np.round(unit + 0.01) - 0.01, unit))
    unit_price = np.round(np.maximum(snapped, 0.85) * 100.0).astype("int64")
    total = np.where(no_items, np.round(value * 100.0).astype("int64"), kk * (unit_price + unit_freight))
    return k, unit_price, unit_freight, total


def _payments(
    rng: np.random.Generator, order_ids: np.ndarray, total: np.ndarray, multi: np.ndarray, first_type: np.ndarray
) -> pd.DataFrame:
    """Payment rows: one per order mostly; card + vouchers or several vouchers for ~3%."""
    n = total.size
    ms, mp = _pmf(_N_PAYMENTS_PMF)
    m = np.where(multi, ms[rng.choice(ms.size, size=n, p=mp)], 1).astype("int64")
    pay_total = total.copy()
    card1 = (first_type == "credit_card") & ~multi
    interest = card1 & (rng.random(n) < _INTEREST_P)
    pay_total[interest] = np.round(pay_total[interest] * rng.uniform(1.01, 1.2, int(interest.sum()))).astype("int64")
    cents = _split_cents(rng, pay_total, m)
    owner = np.repeat(np.arange(n), m)
    seq = np.arange(owner.size) - np.repeat(np.concatenate([[0], np.cumsum(m)[:-1]]), m) + 1
    ptype = np.where(seq == 1, first_type[owner], "voucher").astype(object)
    band = np.searchsorted(_INSTALLMENT_BANDS, total[owner] / 100.0)
    u = rng.random(owner.size)
    cdf = np.cumsum(_INSTALLMENT_P / _INSTALLMENT_P.sum(axis=1, keepdims=True), axis=1)
    inst_idx = np.minimum((u[:, None] > cdf[band]).sum(axis=1), _INSTALLMENT_VALUES.size - 1)
    inst = np.where(ptype == "credit_card", _INSTALLMENT_VALUES[inst_idx], 1)
    pay = pd.DataFrame({
        "order_id": order_ids[owner],
        "payment_sequential": seq,
        "payment_type": ptype,
        "payment_installments": inst,
        "payment_value": cents / 100.0,
    })
    # A little mess: a few extra 0.00 vouchers, a handful of orders with no payment at all.
    n_zero = max(1, int(round(n * _ZERO_VOUCHER_RATE)))
    z = rng.choice(n, size=n_zero, replace=False)
    zero = pd.DataFrame({
        "order_id": order_ids[z], "payment_sequential": m[z] + 1, "payment_type": "voucher",
        "payment_installments": 1, "payment_value": 0.0,
    })
    pay = pd.concat([pay, zero], ignore_index=True)
    n_none = max(1, int(round(n * _NO_PAYMENT_RATE)))
    none = order_ids[rng.choice(np.setdiff1d(np.arange(n), z), size=n_none, replace=False)]
    pay = pay[~pay["order_id"].isin(none)]
    return pay.iloc[rng.permutation(len(pay))].reset_index(drop=True)


def _reviews(rng: np.random.Generator, ids: np.random.Generator, orders: pd.DataFrame) -> pd.DataFrame:
    """About one review per order; score depends on delivery (on time, late, not delivered)."""
    n = len(orders)
    delivered = orders["delivered"].to_numpy()
    estimated = orders["estimated"].to_numpy()
    is_del = ~np.isnan(delivered) & (orders["status"].to_numpy() == "delivered")
    group = np.where(~is_del, "nd", np.where(delivered > estimated, "late", "ontime"))
    keep = rng.random(n) >= _NO_REVIEW_P
    second = rng.random(n) < _SECOND_REVIEW_P
    idx = np.concatenate([np.flatnonzero(keep), np.flatnonzero(second)])
    g = group[idx]
    lag = rng.choice([0, 1, 2, 3, 5], size=idx.size, p=[0.0, 0.93, 0.04, 0.02, 0.01]).astype(float)
    lag += np.where(np.arange(idx.size) >= keep.sum(), rng.integers(1, 15, idx.size), 0)
    base = np.where(is_del[idx], delivered[idx], estimated[idx] + rng.integers(0, 5, idx.size) * _DAY)
    creation = (base // _DAY + lag) * _DAY
    answer = creation + np.maximum(np.floor(_lognormal_median(rng, 1.6, 0.9, idx.size) * _DAY), 7200.0)
    score = np.zeros(idx.size, dtype="int64")
    for grp, p in _SCORE_P.items():
        sel = np.flatnonzero(g == grp)
        score[sel] = rng.choice(5, size=sel.size, p=np.array(p) / np.sum(p)) + 1
    mood = np.where(score >= 4, "pos", np.where(score == 3, "mid", "neg"))
    title = np.full(idx.size, None, dtype=object)
    msg = np.full(idx.size, None, dtype=object)
    has_t = rng.random(idx.size) < 0.117
    has_m = rng.random(idx.size) < 0.413
    for md in ("pos", "mid", "neg"):
        sel = np.flatnonzero((mood == md) & has_t)
        title[sel] = np.array(_TITLES[md], dtype=object)[rng.integers(0, len(_TITLES[md]), sel.size)]
        sel = np.flatnonzero((mood == md) & has_m)
        msg[sel] = np.array(_MESSAGES[md], dtype=object)[rng.integers(0, len(_MESSAGES[md]), sel.size)]
    rev = pd.DataFrame({
        "review_id": _hex_ids(ids, idx.size),
        "order_id": orders["order_id"].to_numpy()[idx],
        "review_score": score,
        "review_comment_title": title,
        "review_comment_message": msg,
        "review_creation_date": _to_datetime(creation),
        "review_answer_timestamp": _to_datetime(answer),
    })
    rev = rev[answer <= _secs(_SNAPSHOT)]
    return rev.iloc[rng.permutation(len(rev))].reset_index(drop=True)


def _session_rate(lam: np.ndarray) -> np.ndarray:
    """Browsing sessions per day while alive, increasing with the purchase rate."""
    return _SESSION_BASE + _SESSION_SLOPE * np.sqrt(lam) + _SESSION_LINEAR * lam


def _intent(lam: np.ndarray) -> np.ndarray:
    """Buying intent in [0, 1): drives the add_to_cart and purchase shares of browsing sessions."""
    r = np.sqrt(lam)
    return r / (r + np.sqrt(_INTENT_HALF))


def _timestamps_us(seconds: np.ndarray) -> np.ndarray:
    """Float seconds since origin -> 'YYYY-MM-DD HH:MM:SS.ffffff' strings (the clickstream format)."""
    us = np.floor(seconds * 1e6).astype("int64")
    t = _ORIGIN.astype("datetime64[us]") + us.astype("timedelta64[us]")
    return np.char.replace(np.datetime_as_string(t, unit="us"), "T", " ")


def _clickstream(
    rng: np.random.Generator, persons: pd.DataFrame, user_id: np.ndarray, orders: pd.DataFrame,
    n_extra: int, extra_ids: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sessions and events. Returns the event table and each person's browsing rate."""
    n = len(persons)
    linked = user_id > 0
    lam = persons["lam"].to_numpy()
    spend = persons["spend"].to_numpy()
    rate = np.where(linked, _session_rate(lam), 0.0)
    click_end = _secs(_CLICK_END)
    first = persons["first"].to_numpy()
    start = np.maximum(first - np.floor(rng.exponential(_PRE_BROWSE_DAYS, n) * _DAY), 0.0)
    alive_end = np.minimum(persons["alive"].to_numpy(), click_end)
    span_alive = np.maximum(alive_end - start, 0.0)
    span_dead = np.maximum(click_end - np.maximum(alive_end, start), 0.0)
    n_alive = rng.poisson(rate * span_alive / _DAY)
    n_dead = np.where(linked, rng.poisson(_SESSION_DEAD * span_dead / _DAY), 0)
    # Browsing sessions of persons (alive, then after dropout) and of clickstream-only users.
    pa = np.repeat(np.arange(n), n_alive)
    pd_ = np.repeat(np.arange(n), n_dead)
    t_alive = start[pa] + rng.random(pa.size) * span_alive[pa]
    t_dead = np.maximum(alive_end, start)[pd_] + rng.random(pd_.size) * span_dead[pd_]
    extra_span = rng.uniform(60, 700, n_extra) * _DAY
    extra_start = rng.uniform(_secs("2017-01-01"), click_end - 30 * _DAY, n_extra)
    n_x = rng.poisson(_SESSION_BASE * 2.0 * extra_span / _DAY)
    px = np.repeat(np.arange(n_extra), n_x)
    t_x = np.minimum(extra_start[px] + rng.random(px.size) * extra_span[px], click_end - 3600.0)
    b_user = np.concatenate([user_id[pa], user_id[pd_], extra_ids[px]])
    b_t = np.concatenate([t_alive, t_dead, t_x])
    b_t = (b_t // _DAY) * _DAY + rng.choice(24, size=b_t.size, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()) * 3600.0 \
        + rng.random(b_t.size) * 3600.0
    b_intent = np.concatenate([
        _intent(lam[pa]), 0.3 * _intent(lam[pd_]), np.zeros(px.size)
    ])
    b_spend = np.concatenate([spend[pa], spend[pd_], np.full(px.size, float(np.median(spend)))])
    b_n = np.minimum(1 + rng.poisson(4.0, b_t.size), 14)
    # Order sessions: most orders of linked persons show up as a session ending in a purchase.
    o_person = orders["person"].to_numpy()
    o_sel = np.flatnonzero(linked[o_person] & (orders["t"].to_numpy() < click_end)
                           & (rng.random(len(orders)) < _ORDER_SESSION_P))
    o_user = user_id[o_person[o_sel]]
    o_t = orders["t"].to_numpy()[o_sel]
    o_amount = orders["total"].to_numpy()[o_sel] / 100.0
    o_login = rng.random(o_sel.size) < 0.5
    o_logout = rng.random(o_sel.size) < 0.4
    o_views = 2 + rng.poisson(2.0, o_sel.size)
    o_n = o_login + 1 + o_views + 2 + o_logout
    # Events.
    kind = np.concatenate([np.zeros(b_t.size, dtype=int), np.ones(o_sel.size, dtype=int)])
    s_user = np.concatenate([b_user, o_user])
    s_n = np.concatenate([b_n, o_n]).astype("int64")
    n_s = s_n.size
    ev_s = np.repeat(np.arange(n_s), s_n)
    pos = np.arange(ev_s.size) - np.repeat(np.cumsum(s_n) - s_n, s_n)
    gaps = _lognormal_median(rng, 40.0, 1.0, ev_s.size)
    gaps[pos == 0] = 0.0
    off = np.cumsum(gaps)
    off -= np.repeat(off[np.cumsum(s_n) - s_n], s_n)
    # Browsing event types.
    intent = np.concatenate([b_intent, np.zeros(o_sel.size)])[ev_s]
    p_cart = 0.03 + 0.45 * intent
    p_buy = 0.004 + 0.35 * intent
    rest = 1.0 - p_cart - p_buy
    u = rng.random(ev_s.size)
    mid = np.select(
        [u < p_cart, u < p_cart + p_buy, u < p_cart + p_buy + 0.36 * rest, u < p_cart + p_buy + 0.70 * rest],
        [2, 3, 0, 1], default=4,
    )
    b_login = rng.random(n_s) < 0.5
    b_logout = (rng.random(n_s) < 0.4) & (s_n >= 2)
    last = pos == s_n[ev_s] - 1
    btype = np.where((pos == 0) & b_login[ev_s], 5, np.where(last & b_logout[ev_s], 6, mid))
    # Order-session event types: [login] page_view product_view.. add_to_cart purchase [logout].
    lo = np.concatenate([np.zeros(b_t.size, dtype=int), o_login.astype(int)])[ev_s]
    nv = np.concatenate([np.zeros(b_t.size, dtype=int), o_views])[ev_s]
    otype = np.select(
        [(pos == 0) & (lo == 1), pos == lo, pos <= lo + nv, pos == lo + nv + 1, pos == lo + nv + 2],
        [5, 0, 1, 2, 3], default=6,
    )
    is_order = kind[ev_s] == 1
    etype = np.where(is_order, otype, btype)
    # Times: browsing sessions run forward from their start; order sessions end in the purchase.
    buy_pos = lo + nv + 2
    o_start = np.zeros(n_s)
    o_off_buy = np.zeros(n_s)
    ob = np.flatnonzero(is_order & (pos == buy_pos))
    o_off_buy[ev_s[ob]] = off[ob]
    o_start[b_t.size:] = o_t - o_off_buy[b_t.size:] + rng.random(o_sel.size)
    s_start = np.concatenate([b_t, np.zeros(o_sel.size)]) + o_start
    ts = s_start[ev_s] + off
    amount = np.full(ev_s.size, np.nan)
    buy = etype == 3
    s_spend = np.concatenate([b_spend, np.zeros(o_sel.size)])
    s_amount = np.concatenate([np.zeros(b_t.size), o_amount])
    noise = rng.lognormal(-0.5 * 0.5**2, 0.5, ev_s.size)
    amount[buy] = np.where(is_order[buy], s_amount[ev_s[buy]], np.round(s_spend[ev_s[buy]] * noise[buy], 2))
    has_prod = np.isin(etype, [1, 2, 3])
    prod = np.full(ev_s.size, None, dtype=object)
    prod[has_prod] = np.char.add("prod_", rng.integers(1000, 10000, int(has_prod.sum())).astype(str))
    ok = ts < click_end
    ev = pd.DataFrame({
        "UserID": s_user[ev_s][ok],
        "_start": s_start[ev_s][ok],
        "_s": ev_s[ok],
        "Timestamp": ts[ok],
        "EventType": _EVENT_TYPES[etype[ok]],
        "ProductID": prod[ok],
        "Amount": amount[ok],
        "Outcome": np.where(buy[ok], "purchase", None),
    })
    ev = ev.sort_values(["UserID", "_start", "_s", "Timestamp"], kind="stable")
    first_row = ~ev["_s"].duplicated()
    ev["SessionID"] = first_row.astype("int64").groupby(ev["UserID"]).cumsum()
    ev["Timestamp"] = _timestamps_us(ev["Timestamp"].to_numpy())
    return ev[_CLICK_COLUMNS].reset_index(drop=True), rate


# ======================================================================================
# Public API
# ======================================================================================
def _check_args(out_dir: Path, truth_dir: Path, n_customers: int, seed: int) -> None:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise ValueError(f"n_customers must be an integer, got {n_customers!r}.")
    if not MIN_CUSTOMERS <= n_customers <= _MAX_CUSTOMERS:
        raise ValueError(
            f"n_customers must be between {MIN_CUSTOMERS} and {_MAX_CUSTOMERS:,}, got {n_customers}; "
            "with fewer than 100 persons the repeat buyers and the clickstream link are too rare to show anything."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    o, t = out_dir.resolve(), truth_dir.resolve()
    if t == o or o in t.parents:
        raise ValueError(
            f"truth_dir {truth_dir} is inside out_dir {out_dir}: the data stages would see the hidden truth. "
            "Put it beside the data folder (the default is <out_dir>/../truth)."
        )
    if out_dir.is_dir() and not (out_dir / DEMO_MARKER).is_file():
        names = set(OLIST_FILES.values()) | {CLICKSTREAM_FILE}
        clash = sorted(p.name for p in out_dir.iterdir() if p.name in names)
        if clash:
            raise ValueError(
                f"out_dir {out_dir} already holds {clash[:3]} but no {DEMO_MARKER}: it may be real data. "
                "Refusing to overwrite it; choose an empty folder for the demo."
            )


def generate_demo(
    out_dir: str | Path,
    n_customers: int = 40_000,
    seed: int = 42,
    truth_dir: str | Path | None = None,
) -> dict:
    """Write a seeded synthetic copy of the Olist + clickstream downloads, and its answer key.

    Parameters
    ----------
    out_dir
        Folder for the data: the nine Olist CSVs (names from :data:`clvlib.paths.OLIST_FILES`),
        the clickstream CSV, ``demo_user_key.csv`` (customer_unique_id, UserID) and the
        :data:`clvlib.paths.DEMO_MARKER` file. Created if needed. A folder holding
        Kaggle-named CSVs without the marker (possibly real data) is refused.
    n_customers
        Number of persons (``customer_unique_id``); orders come to about 1.035 per person.
    seed
        Seed of every random draw. Same seed and size give byte-identical files.
    truth_dir
        Folder for ``demo_truth.csv`` and ``demo_truth.json``; default ``<out_dir>/../truth``.
        It must not be inside ``out_dir``.

    Returns
    -------
    dict
        ``raw_dir``, ``truth_path``, ``truth_json_path``, ``key_path``, ``marker_path``,
        ``files`` (logical table name -> path), and the counts ``n_customers``, ``n_orders``,
        ``n_order_items``, ``n_payments``, ``n_reviews``, ``n_clickstream_rows``,
        ``n_clickstream_users``, ``n_linked_customers``.

    Raises
    ------
    ValueError
        If ``n_customers`` is not an integer in [100, 2,000,000], ``seed`` is negative,
        ``truth_dir`` lies inside ``out_dir``, or ``out_dir`` holds non-demo Kaggle files.

    Notes
    -----
    The world: person *i* arrives (first order) on a day drawn from the real monthly order
    curve (with the Black Friday 2017 spike); has a repeat-purchase rate
    ``lambda_i ~ Gamma(0.2, rate 1200)`` per day and a lifetime ``~ Exp(mu_i)``,
    ``mu_i ~ Gamma(2, rate 400)`` (Pareto/NBD); buys again at Poisson times while alive;
    0.95% of purchase occasions yield a second order the same day; each order's value is
    ``spend_mean_i`` times a mean-one lognormal. Orders near the end of the data are
    thinned like the real ones (see :func:`visible_days`). Clickstream sessions of a linked
    person come at ``0.002 + 0.3 * sqrt(lambda_i) + 4 * lambda_i`` per day while alive (from
    a few weeks before the first order) and at 0.00025 per day after dropout; their
    add-to-cart and purchase shares rise with ``lambda_i`` and purchase amounts scale with
    ``spend_mean_i``; most orders also appear as a session ending in a purchase event of
    the order's amount. ``demo_truth.json`` records these settings.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who
    are they and what will they do next? *Management Science*, 33(1), 1-24.
    """
    out = Path(out_dir)
    truth = Path(truth_dir) if truth_dir is not None else out.parent / "truth"
    _check_args(out, truth, n_customers, seed)
    world = _build(int(n_customers), int(seed))
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, df in world["tables"].items():
        fmt = "%.2f" if name in ("order_items", "payments") else None  # money as in the real files
        files[name] = write_csv_atomic(df[_OLIST_COLUMNS[name]], out / OLIST_FILES[name], float_format=fmt)
    files["clickstream"] = write_csv_atomic(world["clickstream"], out / CLICKSTREAM_FILE, float_format=None)
    key_path = write_csv_atomic(world["key"], out / USER_KEY_FILE)
    truth.mkdir(parents=True, exist_ok=True)
    truth_path = write_csv_atomic(world["truth"], truth / TRUTH_FILE, float_format="%.10g")
    truth_json = write_json_atomic(_truth_description(int(seed), int(n_customers)), truth / TRUTH_JSON)
    marker = write_json_atomic({
        "demo": True,
        "seed": int(seed),
        "n_customers": int(n_customers),
        "generated_by": "clvlib.demo",
        "note": "Synthetic data with the schema of the Kaggle Olist and clickstream downloads. "
        "Not real customers. demo_user_key.csv links customer_unique_id to the clickstream UserID.",
        "user_key_file": USER_KEY_FILE,
    }, out / DEMO_MARKER)
    tables = world["tables"]
    return {
        "raw_dir": out,
        "truth_path": truth_path,
        "truth_json_path": truth_json,
        "key_path": key_path,
        "marker_path": marker,
        "files": files,
        "n_customers": int(n_customers),
        "n_orders": len(tables["orders"]),
        "n_order_items": len(tables["order_items"]),
        "n_payments": len(tables["payments"]),
        "n_reviews": len(tables["reviews"]),
        "n_clickstream_rows": len(world["clickstream"]),
        "n_clickstream_users": int(world["clickstream"]["UserID"].nunique()),
        "n_linked_customers": len(world["key"]),
    }


def _truth_description(seed: int, n_customers: int) -> dict[str, Any]:
    """Contents of ``demo_truth.json``."""
    return {
        "description": "Hidden traits of the demo persons (clvlib.demo). Not part of the data: "
        "the data stages must never read this folder.",
        "seed": seed,
        "n_customers": n_customers,
        "columns": TRUTH_COLUMNS,
        "model": {
            "purchase_rate_per_day": f"Gamma(shape={_R}, rate={_ALPHA})",
            "dropout_rate_per_day": f"Gamma(shape={_S}, rate={_BETA}); alive_until = first_purchase + Exp(mu)",
            "repeat_purchases": "Poisson(purchase_rate_per_day) on (first_purchase, alive_until), "
            "thinned near the end of data (see clvlib.demo.visible_days)",
            "same_day_split_probability": _SPLIT_P,
            "order_value": f"spend_mean * LogNormal(mean 1, sigma {_ORDER_SIGMA})",
            "expected_value": "clvlib.demo.true_expected_value(truth, start, end)",
            "session_rate_per_day": f"{_SESSION_BASE} + {_SESSION_SLOPE} * sqrt(purchase_rate_per_day) + "
            f"{_SESSION_LINEAR} * purchase_rate_per_day while alive; {_SESSION_DEAD} after alive_until",
        },
    }


def _build(n_customers: int, seed: int) -> dict[str, Any]:
    """The whole demo world in memory: Olist tables, clickstream, key and truth (no I/O)."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    r_pers, r_occ, r_val, r_life, r_items, r_pay, r_rev, r_geo, r_click, r_ids = streams

    persons = _persons(r_pers, n_customers)
    occ = _occasions(r_occ, persons)
    n_orders = len(occ)
    person_ids = _hex_ids(r_ids, n_customers)
    order_ids = _hex_ids(r_ids, n_orders)
    customer_ids = _hex_ids(r_ids, n_orders)
    pidx = occ["person"].to_numpy()
    t = occ["t"].to_numpy()
    # Value, payment types, life cycle, items.
    value = _order_values(r_val, persons["spend"].to_numpy()[pidx])
    multi = r_pay.random(n_orders) < _MULTI_PAYMENT_P
    types, tp = _pmf(_SINGLE_TYPE_P)
    first_type = np.where(
        multi,
        np.where(r_pay.random(n_orders) < _MULTI_FIRST_CARD_P, "credit_card", "voucher"),
        types[r_pay.choice(types.size, size=n_orders, p=tp)],
    ).astype(object)
    life = _lifecycle(r_life, t, first_type)
    status = life["status"].to_numpy()
    k, unit_price, unit_freight, total = _items_and_values(r_items, value, status)

    # Geography, catalogue.
    cities, geo = _geo_tables(r_geo)
    city_idx, zips = _place(r_geo, cities, persons["state"].to_numpy())
    products, sellers, prod_seller, by_price, sorted_price = _catalogue(r_items, r_ids, int(k.sum()), cities)

    orders = pd.DataFrame({
        "order_id": order_ids,
        "customer_id": customer_ids,
        "order_status": status,
        "order_purchase_timestamp": _to_datetime(t),
        "order_approved_at": _to_datetime(life["approved"].to_numpy()),
        "order_delivered_carrier_date": _to_datetime(life["carrier"].to_numpy()),
        "order_delivered_customer_date": _to_datetime(life["delivered"].to_numpy()),
        "order_estimated_delivery_date": _to_datetime(life["estimated"].to_numpy()),
    })
    customers = pd.DataFrame({
        "customer_id": customer_ids,
        "customer_unique_id": person_ids[pidx],
        "customer_zip_code_prefix": zips[pidx],
        "customer_city": cities["city"].to_numpy()[city_idx][pidx],
        "customer_state": persons["state"].to_numpy()[pidx],
    })

    # Order items: one product for all items of an order mostly, else one product per item.
    item_order = np.repeat(np.arange(n_orders), k)
    item_no = np.arange(item_order.size) - np.repeat(np.cumsum(k) - k, k) + 1
    same = r_items.random(n_orders) < 0.75
    jitter = r_items.integers(-3, 4, item_order.size)
    jitter = np.where(same[item_order], jitter[np.repeat(np.cumsum(k) - k, k)], jitter)
    rank = np.clip(np.searchsorted(sorted_price, unit_price[item_order] / 100.0) + jitter, 0, len(sorted_price) - 1)
    prod = by_price[rank]
    ship_base = np.where(np.isnan(life["approved"].to_numpy()), t, life["approved"].to_numpy())
    ship_limit = ship_base + np.floor(_lognormal_median(r_items, 6.0, 0.3, n_orders) * _DAY)
    items = pd.DataFrame({
        "order_id": order_ids[item_order],
        "order_item_id": item_no,
        "product_id": products["product_id"].to_numpy()[prod],
        "seller_id": sellers["seller_id"].to_numpy()[prod_seller[prod]],
        "shipping_limit_date": _to_datetime(ship_limit[item_order]),
        "price": unit_price[item_order] / 100.0,
        "freight_value": unit_freight[item_order] / 100.0,
    }).sort_values(["order_id", "order_item_id"], kind="stable").reset_index(drop=True)

    payments = _payments(r_pay, order_ids, total, multi, first_type)
    reviews = _reviews(r_rev, r_ids, pd.DataFrame({
        "order_id": order_ids, "status": status, "delivered": life["delivered"].to_numpy(),
        "estimated": life["estimated"].to_numpy(),
    }))

    # Clickstream: ~70% of persons linked to a UserID, plus clickstream-only users.
    linked = r_click.random(n_customers) < _LINKED_P
    n_linked = int(linked.sum())
    n_extra = int(round(_EXTRA_USERS_P * n_linked))
    uid_pool = r_click.permutation(n_linked + n_extra) + 1
    user_id = np.zeros(n_customers, dtype="int64")
    user_id[linked] = uid_pool[:n_linked]
    click, session_rate = _clickstream(
        r_click, persons, user_id, pd.DataFrame({"person": pidx, "t": t, "total": total}),
        n_extra, uid_pool[n_linked:],
    )

    translation = pd.DataFrame(
        [(c, e) for c, e, _ in _CATEGORIES if e is not None],
        columns=_OLIST_COLUMNS["category_translation"],
    )
    tables = {
        "customers": customers.iloc[r_ids.permutation(n_orders)],
        "orders": orders.iloc[r_ids.permutation(n_orders)],
        "order_items": items,
        "payments": payments,
        "reviews": reviews,
        "products": products,
        "sellers": sellers,
        "geolocation": geo,
        "category_translation": translation,
    }
    key = pd.DataFrame({"customer_unique_id": person_ids[linked], "UserID": user_id[linked]})

    n_per_person = np.bincount(pidx, minlength=n_customers)
    truth_df = pd.DataFrame({
        "customer_unique_id": person_ids,
        "UserID": pd.array(np.where(linked, user_id, 0), dtype="Int64"),
        "first_purchase": _to_datetime(persons["first"].to_numpy()),
        "alive_until": _to_datetime(persons["alive"].to_numpy()),
        "purchase_rate_per_day": persons["lam"].to_numpy(),
        "dropout_rate_per_day": persons["mu"].to_numpy(),
        "spend_mean": persons["spend"].to_numpy(),
        "session_rate_per_day": session_rate,
        "customer_state": persons["state"].to_numpy(),
        "n_orders": n_per_person,
    })
    truth_df.loc[~linked, "UserID"] = pd.NA
    return {"tables": tables, "clickstream": click, "key": key.sort_values("UserID", kind="stable"), "truth": truth_df}


_TRUTH_REQUIRED = ("customer_unique_id", "first_purchase", "alive_until", "purchase_rate_per_day", "spend_mean")


def load_truth(path: str | Path) -> pd.DataFrame:
    """Read ``demo_truth.csv`` with types and checks.

    Parameters
    ----------
    path
        The truth CSV, or the folder holding ``demo_truth.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per person; ``customer_unique_id`` as string, ``UserID`` as nullable
        integer, ``first_purchase`` and ``alive_until`` as datetimes, the rates and
        ``spend_mean`` as floats.

    Required columns
    ----------------
    customer_unique_id, first_purchase, alive_until, purchase_rate_per_day, spend_mean

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a required column is missing, an id repeats, a date or number does not parse,
        a rate or spend is negative, or ``alive_until`` precedes ``first_purchase``.
    """
    p = Path(path)
    if p.is_dir():
        p = p / TRUTH_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{p}: demo truth file not found; generate it with clvlib.demo.generate_demo.")
    df = pd.read_csv(p, dtype={"customer_unique_id": "string", "customer_state": "string"})
    validate_columns(df, _TRUTH_REQUIRED, p.name)
    return _check_truth(df, p.name)


def _check_truth(truth: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate and type a truth frame (shared by :func:`load_truth` and :func:`true_expected_value`)."""
    validate_columns(truth, _TRUTH_REQUIRED, table)
    df = truth.copy()
    if df.empty:
        raise ValueError(f"{table}: no rows.")
    ids = df["customer_unique_id"].astype("string")
    if ids.isna().any():
        raise ValueError(f"{table}: column 'customer_unique_id' has {int(ids.isna().sum())} empty value(s).")
    dup = ids.duplicated()
    if dup.any():
        raise ValueError(
            f"{table}: customer_unique_id must be unique; {int(dup.sum())} repeat(s), e.g. {ids[dup].iloc[0]!r}."
        )
    df["customer_unique_id"] = ids
    for col in ("first_purchase", "alive_until"):
        if not pd.api.types.is_datetime64_any_dtype(df[col]):
            df[col] = parse_datetimes(df[col], table, col, allow_missing=False)
        elif df[col].isna().any():
            raise ValueError(f"{table}: column '{col}' is empty in {int(df[col].isna().sum())} row(s).")
    for col in ("purchase_rate_per_day", "spend_mean", "dropout_rate_per_day", "session_rate_per_day"):
        if col in df.columns:
            df[col] = parse_numbers(df[col], table, col)
            if df[col].isna().any():
                raise ValueError(f"{table}: column '{col}' is empty in {int(df[col].isna().sum())} row(s).")
    if "UserID" in df.columns:
        df["UserID"] = pd.to_numeric(df["UserID"], errors="raise").astype("Int64")
    bad = df["alive_until"] < df["first_purchase"]
    if bad.any():
        raise ValueError(
            f"{table}: alive_until is before first_purchase in {int(bad.sum())} row(s); a person dies after buying."
        )
    return df


def true_expected_value(truth: pd.DataFrame, start: Any, end: Any) -> pd.Series:
    """Expected spend of each demo person in the window of days ``(start, end]``, from the hidden traits.

    Calendar-day windows as everywhere in the project: orders dated after the day
    ``start`` and on or before the day ``end`` (``start='2018-02-28', end='2018-08-31'``
    is March to August 2018). Times of day in ``start``/``end`` are ignored.

    For person *i* with rate ``lambda_i``, spend level ``m_i``, first purchase ``f_i`` and
    dropout ``d_i``, and window ``[s, e)`` (midnight after ``start`` to midnight after ``end``)::

        E_i = m_i * (1 + q) * ( 1[s <= f_i < e] + lambda_i * V(max(s, f_i), min(e, d_i)) )

    where ``q`` is the same-day split probability (0.011) and ``V`` the visibility-weighted
    days (:func:`visible_days`: plain days until 21 August 2018, less after). Spend is
    the sum of ``payment_value`` over all the person's orders in the window, of any
    status; it is exact up to rounding to cents and the rare installment-interest uplift.

    Parameters
    ----------
    truth
        The truth table (:func:`load_truth`), or any frame with its required columns.
    start, end
        Last day before the window and last day in it.

    Returns
    -------
    pandas.Series
        Float, indexed by ``customer_unique_id``, named ``expected_value``.

    Required columns
    ----------------
    customer_unique_id, first_purchase, alive_until, purchase_rate_per_day, spend_mean

    Raises
    ------
    ValueError
        If a required column is missing or invalid, or ``end`` is not after ``start``.
    """
    df = _check_truth(truth, "truth")
    try:
        s = pd.Timestamp(start).normalize() + pd.Timedelta(days=1)
        e = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start and end must be dates, got {start!r} and {end!r}.") from exc
    if e <= s:
        raise ValueError(f"end ({pd.Timestamp(end).date()}) must be after start ({pd.Timestamp(start).date()}).")
    first = df["first_purchase"]
    in_window = ((first >= s) & (first < e)).to_numpy(dtype=float)
    a = first.where(first > s, s)
    b = df["alive_until"].where(df["alive_until"] < e, e)
    repeats = df["purchase_rate_per_day"].to_numpy() * visible_days(a, b)
    value = df["spend_mean"].to_numpy() * (1.0 + _SPLIT_P) * (in_window + repeats)
    return pd.Series(value, index=pd.Index(df["customer_unique_id"], name="customer_unique_id"), name="expected_value")
