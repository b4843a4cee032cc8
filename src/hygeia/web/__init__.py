"""The web dashboard (``/web``): sign-in, ward, patient, alert inbox, operations, governance and the
patient's own record — server-rendered pages with plotly charts, working with no internet.

The router is ``hygeia.web.routes.router`` (mounted by ``hygeia.api.create_app``); ``hygeia.web.demo``
builds and runs the demo hospital. Decision support for a qualified clinician.
"""
