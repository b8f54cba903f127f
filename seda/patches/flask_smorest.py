"""flask-smorest: an app's OpenAPI document is built when something first reads it.

flask-smorest 0.47 documents a blueprint's views inside `Api.register_blueprint`
(`Blueprint.register_views_in_doc`: apispec's conversion of every schema and a deep copy of every
view's notes). That was 58 % of seda's `create_app` (cProfile: 1.0 of 1.8 s over five apps), paid
by every worker as it starts and by each of the ~3,000 apps the test suite builds, though only
`/api/docs/openapi.json`, the docs page and the app factory's security schemes read the spec.
Here registering a blueprint registers its views at once and queues its documentation; the
first read of `api.spec` documents what is queued, in the order registered, so the document is
the same. The blueprint registration below is flask-smorest 0.47.0's, its last step queued.
The first reads may come at once (threads serving /api/docs/openapi.json): one documents, the
others wait for it."""

import threading

from flask_smorest import Api

PATCHED_FOR = "flask-smorest==0.47.0"
PATCHED = {
    "flask_smorest.Api.register_blueprint": "(self, blp, *, parameters=None, **options)",
    "flask_smorest.Blueprint.register_views_in_doc": "(self, api, app, spec, *, name, parameters)",
}


_documenting = threading.RLock()  # reentrant: documenting a view may read api.spec again


class DocsOnDemand(Api):
    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_undocumented", []).append((blp, self._app, name, parameters))

    @property
    def spec(self):
        spec, undocumented = self.__dict__.get("_spec"), self.__dict__.get("_undocumented")
        if spec is None or not undocumented:
            return spec
        with _documenting:
            while undocumented:
                blp, app, name, parameters = undocumented[0]
                blp.register_views_in_doc(self, app, spec, name=name, parameters=parameters)
                spec.tag({"name": name, "description": blp.description})
                undocumented.pop(0)
        return spec

    @spec.setter
    def spec(self, value):
        """A new spec (init_app for another app) starts with nothing queued."""
        self.__dict__["_spec"] = value
        self.__dict__["_undocumented"] = []
