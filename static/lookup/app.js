// Customer Lookup: the little JavaScript the pages need (no inline scripts).
"use strict";
