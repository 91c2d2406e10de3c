"""Calibration tables of the demo world: every share, PMF, weight and day table it draws from.

The Olist-facing tables were calibrated to the real Kaggle Olist files, measured with
pandas (99,441 orders, 96,096 persons): the monthly order curve with the Black Friday 2017
peak and the thinning end of data, weekday and hour weights, items per order, order
statuses, payment types, counts and installments, review scores, the customer and seller
state mix and the category shares. City names, zip prefix ranges and coordinates are
public facts. Only aggregate shares are kept; no row of the real data is copied.

The hidden-trait parameters (purchase rate, dropout, spend) cannot be measured directly:
they were tuned so that the generated data reproduce real figures (one-time buyers ~97%
of persons, about 1.035 orders per person, order value median ~105 BRL with a heavy right
tail). The clickstream settings are design choices: the real clickstream download has no
link to Olist, so there is nothing to calibrate them on.

Every value here feeds the seeded draws: changing one changes the generated files.
Times are ``numpy.datetime64``; :mod:`clvlib.demo.timeline` turns them into the internal
clock (float seconds since :data:`ORIGIN`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    # calendar of the real data
    "ORIGIN", "PROCESS_END", "SNAPSHOT", "CLICK_END", "FORCE_CANCEL_FROM",
    # arrivals by month, day, weekday and hour; visibility at the end of data
    "MONTH_SHARES", "ACTIVE_DAYS", "SPECIAL_DAYS", "VISIBILITY", "VISIBILITY_AFTER", "VISIBILITY_AFTER_FROM",
    "DOW_MULT", "HOUR_WEIGHTS",
    # hidden traits and spend
    "RATE_R", "RATE_ALPHA", "DROPOUT_S", "DROPOUT_BETA", "SPLIT_P", "SPEND_MU", "SPEND_SIGMA",
    "SPEND_TAIL_P", "SPEND_TAIL_SCALE", "ORDER_SIGMA", "ITEMS_PMF",
    # order life cycle, payments, reviews
    "STATUS_P", "NO_ITEMS_P", "MULTI_PAYMENT_P", "N_PAYMENTS_PMF", "SINGLE_TYPE_P", "MULTI_FIRST_CARD_P",
    "INSTALLMENT_BANDS", "INSTALLMENT_VALUES", "INSTALLMENT_P", "INTEREST_P", "NO_PAYMENT_RATE",
    "ZERO_VOUCHER_RATE", "SCORE_P", "NO_REVIEW_P", "SECOND_REVIEW_P", "TITLES", "MESSAGES",
    # geography and catalogue
    "STATE_P", "SELLER_STATE_P", "CITIES", "CATEGORIES", "NO_CATEGORY_P",
    # clickstream
    "LINKED_P", "EXTRA_USERS_P", "SESSION_BASE", "SESSION_SLOPE", "SESSION_LINEAR", "SESSION_DEAD",
    "PRE_BROWSE_DAYS", "ORDER_SESSION_P", "INTENT_HALF",
]

# --------------------------------------------------------------------------------------
# Calendar of the real data. ORIGIN (start of the month of the first real orders) is also
# the origin of the internal clock.
# --------------------------------------------------------------------------------------
ORIGIN = np.datetime64("2016-09-01T00:00:00", "s")
PROCESS_END = np.datetime64("2018-10-18T00:00:00", "s")  # no order on or after this instant
SNAPSHOT = np.datetime64("2018-10-17T23:59:59", "s")  # no timestamp after this
CLICK_END = np.datetime64("2018-09-01T00:00:00", "s")  # clickstream export ends here
FORCE_CANCEL_FROM = np.datetime64("2018-08-30", "D")  # later orders are only ever seen cancelled

#: Share of orders by purchase month, measured on the real orders file (99,441 orders).
MONTH_SHARES: dict[str, float] = {
    "2016-09": 0.00004, "2016-10": 0.00326, "2016-11": 0.0, "2016-12": 0.00001,
    "2017-01": 0.00805, "2017-02": 0.01790, "2017-03": 0.02697, "2017-04": 0.02418,
    "2017-05": 0.03721, "2017-06": 0.03263, "2017-07": 0.04049, "2017-08": 0.04355,
    "2017-09": 0.04309, "2017-10": 0.04657, "2017-11": 0.07586, "2017-12": 0.05705,
    "2018-01": 0.07310, "2018-02": 0.06766, "2018-03": 0.07252, "2018-04": 0.06978,
    "2018-05": 0.06912, "2018-06": 0.06202, "2018-07": 0.06327, "2018-08": 0.06549,
    "2018-09": 0.00016, "2018-10": 0.00004,
}
#: Real October 2016 orders all fall on 3-10 October (the launch week).
ACTIVE_DAYS: dict[str, tuple[int, int]] = {"2016-10": (3, 10)}
#: Day multipliers around Black Friday 2017 (2017-11-24: 1,176 real orders vs ~180 on a normal day).
SPECIAL_DAYS: dict[str, float] = {
    "2017-11-20": 1.25, "2017-11-21": 1.25, "2017-11-22": 1.1, "2017-11-23": 1.55,
    "2017-11-24": 6.5, "2017-11-25": 2.8, "2017-11-26": 2.2, "2017-11-27": 2.2,
    "2017-11-28": 2.1, "2017-11-29": 1.8, "2017-11-30": 1.5,
}
#: Share of orders that reach the data, by purchase day: the real data thins out from
#: 22 August 2018 and holds only a few (cancelled) orders after 29 August.
VISIBILITY: dict[str, float] = {
    "2018-08-22": 0.64, "2018-08-23": 0.50, "2018-08-24": 0.37, "2018-08-25": 0.36,
    "2018-08-26": 0.37, "2018-08-27": 0.22, "2018-08-28": 0.15, "2018-08-29": 0.05,
    "2018-08-30": 0.014, "2018-08-31": 0.004,
}
VISIBILITY_AFTER = 0.0016  # 1 Sep .. 17 Oct 2018
VISIBILITY_AFTER_FROM = "2018-09-01"
#: Monday..Sunday multipliers and purchase-hour weights (real orders).
DOW_MULT = np.array([1.14, 1.13, 1.09, 1.04, 0.99, 0.76, 0.85])
HOUR_WEIGHTS = np.array([
    0.024, 0.012, 0.005, 0.003, 0.002, 0.002, 0.005, 0.012, 0.030, 0.048, 0.062, 0.066,
    0.060, 0.065, 0.066, 0.065, 0.067, 0.062, 0.058, 0.060, 0.062, 0.063, 0.059, 0.042,
])

# --------------------------------------------------------------------------------------
# Hidden traits (buy-till-you-die) and spend.
# --------------------------------------------------------------------------------------
#: lambda ~ Gamma(shape=RATE_R, rate=RATE_ALPHA) per day; mu ~ Gamma(shape=DROPOUT_S, rate=DROPOUT_BETA) per day.
RATE_R, RATE_ALPHA = 0.2, 1200.0
DROPOUT_S, DROPOUT_BETA = 2.0, 400.0
#: Probability that a purchase occasion yields a second order the same day (real: ~30% of
#: repeat gaps are under a day).
SPLIT_P = 0.0095
#: log spend_mean ~ N(SPEND_MU, SPEND_SIGMA) plus, for SPEND_TAIL_P of persons, an
#: Exp(SPEND_TAIL_SCALE) boost; order value = spend_mean * W, W lognormal with mean 1.
SPEND_MU, SPEND_SIGMA = 4.72, 0.52
SPEND_TAIL_P, SPEND_TAIL_SCALE = 0.18, 0.6
ORDER_SIGMA = 0.52
#: Items per order (real: 1 item in 89.4% of orders, up to 21).
ITEMS_PMF = {1: 0.8940, 2: 0.0756, 3: 0.0133, 4: 0.0051, 5: 0.0021, 6: 0.0020, 7: 0.0003,
              8: 0.0002, 10: 0.0002, 12: 0.0001, 15: 0.0001}

# --------------------------------------------------------------------------------------
# Order life cycle, payments, reviews (real proportions).
# --------------------------------------------------------------------------------------
STATUS_P = {"delivered": 0.97020, "shipped": 0.01113, "canceled": 0.00629, "unavailable": 0.00612,
             "invoiced": 0.00316, "processing": 0.00303, "created": 0.00005, "approved": 0.00002}
#: Share of orders of a status that carry no item rows (unavailable orders almost never do).
NO_ITEMS_P = {"unavailable": 0.99, "created": 1.0, "canceled": 0.26, "invoiced": 0.006}
MULTI_PAYMENT_P = 0.0298
N_PAYMENTS_PMF = {2: 0.805, 3: 0.101, 4: 0.036, 5: 0.017, 6: 0.012, 7: 0.009, 8: 0.0045,
                   9: 0.0035, 10: 0.003, 12: 0.004, 15: 0.002, 20: 0.001, 26: 0.001}
SINGLE_TYPE_P = {"credit_card": 0.7667, "boleto": 0.2051, "debit_card": 0.0158, "voucher": 0.0124}
MULTI_FIRST_CARD_P = 0.856
#: Credit-card installments by order value band (BRL upper bounds), real proportions.
INSTALLMENT_BANDS = np.array([50.0, 100.0, 200.0, 400.0])
INSTALLMENT_VALUES = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12])
INSTALLMENT_P = np.array([
    [0.613, 0.150, 0.134, 0.101, 0.002, 0, 0, 0, 0, 0, 0],
    [0.440, 0.155, 0.134, 0.075, 0.074, 0.052, 0.029, 0.028, 0.013, 0, 0],
    [0.234, 0.217, 0.154, 0.088, 0.080, 0.059, 0.022, 0.052, 0.006, 0.082, 0.006],
    [0.140, 0.115, 0.132, 0.137, 0.099, 0.073, 0.024, 0.122, 0.006, 0.143, 0.009],
    [0.095, 0.052, 0.071, 0.074, 0.075, 0.080, 0.025, 0.176, 0.019, 0.316, 0.017],
])
INTEREST_P = 0.0025  # card orders whose payments exceed the items (installment interest)
NO_PAYMENT_RATE = 5e-5  # orders with no payment row at all (real: 1 in 99,441)
ZERO_VOUCHER_RATE = 1e-4  # orders with an extra 0.00 voucher payment (real: 9 zero payments)
#: Review score distribution for on-time deliveries, late deliveries and undelivered orders.
SCORE_P = {
    "ontime": [0.0660, 0.0263, 0.0799, 0.2034, 0.6244],
    "late": [0.4616, 0.0787, 0.1136, 0.1239, 0.2222],
    "nd": [0.7049, 0.0733, 0.0761, 0.0541, 0.0916],
}
NO_REVIEW_P = 0.003
SECOND_REVIEW_P = 0.0055
TITLES = {
    "pos": ["Recomendo", "Muito bom", "Excelente", "Ótimo", "Super recomendo", "Bom", "Perfeito"],
    "mid": ["Regular", "Ok", "Razoável", "Bom, mas demorou"],
    "neg": ["Não recebi", "Péssimo", "Produto errado", "Ruim", "Atraso na entrega", "Não recomendo"],
}
MESSAGES = {
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
STATE_P = {"SP": 0.4198, "RJ": 0.1292, "MG": 0.1170, "RS": 0.0550, "PR": 0.0507, "SC": 0.0366,
            "BA": 0.0340, "DF": 0.0215, "ES": 0.0204, "GO": 0.0203, "PE": 0.0166, "CE": 0.0134,
            "PA": 0.0098, "MT": 0.0091, "MA": 0.0075, "MS": 0.0072, "PB": 0.0054, "PI": 0.0050,
            "RN": 0.0049, "AL": 0.0042, "SE": 0.0035, "TO": 0.0028, "RO": 0.0025, "AM": 0.0015,
            "AC": 0.0008, "AP": 0.0007, "RR": 0.0005}
SELLER_STATE_P = {"SP": 0.597, "PR": 0.113, "MG": 0.079, "SC": 0.061, "RJ": 0.055, "RS": 0.042,
                   "GO": 0.013, "DF": 0.010, "ES": 0.008, "BA": 0.006, "CE": 0.004, "PE": 0.003,
                   "MS": 0.002, "MT": 0.002, "RN": 0.002, "PB": 0.002}
#: state, city, weight within state, zip prefix range (inclusive), latitude, longitude.
CITIES: list[tuple[str, str, float, int, int, float, float]] = [
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
CATEGORIES: list[tuple[str, str | None, float]] = [
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
NO_CATEGORY_P = 0.0185  # products without category, name and description lengths, photos

# --------------------------------------------------------------------------------------
# Clickstream.
# --------------------------------------------------------------------------------------
LINKED_P = 0.70  # persons with a clickstream UserID
EXTRA_USERS_P = 0.10  # clickstream-only users (never bought), relative to linked persons
SESSION_BASE = 0.002  # browsing sessions/day while alive at lambda -> 0
SESSION_SLOPE = 0.30  # ... plus SESSION_SLOPE * sqrt(lambda)
SESSION_LINEAR = 4.0  # ... plus SESSION_LINEAR * lambda
SESSION_DEAD = 0.00025  # browsing sessions/day after alive_until
PRE_BROWSE_DAYS = 40.0  # mean days of browsing before the first purchase
ORDER_SESSION_P = 0.85  # orders of linked persons that have a session in the clickstream
INTENT_HALF = 0.002  # lambda at which add_to_cart / purchase shares are half-way up
