"""The collection pages 收息收贷, one module per area: calendar (the RM's dues), overdue (the overdue list and its
export), classification (the risk officers' queue), portfolio (quality for a lead or head) and loan (one loan's page,
the actions on it, the customer 360 page's loans panel).

Every page reads through `postloan.queries` (the API too), so the figures agree; every POST goes through a service
(`postloan.services`, `loans.repayments`), which decides scope: out of scope is a 404, never a 403; field errors are
shown beside the field, and a successful POST redirects.
"""
