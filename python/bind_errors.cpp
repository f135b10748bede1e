// One-line TypeErrors for calls that match no signature. pybind11's own message lists every
// overload and prints every argument (a whole tensor: thousands of characters for one misspelt
// keyword); a guard forwards each call unchanged and, only when pybind11 reports such a mismatch,
// asks chainrule._errors.explain for one line naming the argument and what was expected.
#include "python/bind_util.h"

namespace chainrule::bind {
namespace {

struct Guard {
  PyObject_HEAD PyObject* fn;  // the pybind11 function
  vectorcallfunc vectorcall;
};

PyObject* explain = nullptr;

PyObject* new_ref(PyObject* o) {  // Py_NewRef, which Python 3.9 lacks
  Py_INCREF(o);
  return o;
}  // chainrule._errors.explain(fn, args, kwargs) -> str, set at import

bool is_signature_mismatch(PyObject* value) {
  PyObject* s = PyObject_Str(value);
  if (!s) return PyErr_Clear(), false;
  const char* text = PyUnicode_AsUTF8(s);
  bool hit = text && (std::strstr(text, "(): incompatible function arguments") ||
                      std::strstr(text, "(): incompatible constructor arguments"));
  Py_DECREF(s);
  return hit;
}

// Replaces the pending TypeError by explain's one line (keeps it if explain itself fails).
void reword(PyObject* fn, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (!explain || !value || !is_signature_mismatch(value)) return PyErr_Restore(type, value, tb);
  Py_ssize_t n = PyVectorcall_NARGS(nargsf), nk = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  PyObject* pos = PyTuple_New(n);
  PyObject* kw = PyDict_New();
  for (Py_ssize_t i = 0; i < n; ++i) PyTuple_SET_ITEM(pos, i, new_ref(args[i]));
  for (Py_ssize_t i = 0; i < nk; ++i) PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[n + i]);
  PyObject* line = PyObject_CallFunctionObjArgs(explain, fn, pos, kw, nullptr);
  Py_DECREF(pos);
  Py_DECREF(kw);
  if (!line || !PyUnicode_Check(line)) {
    Py_XDECREF(line);
    PyErr_Clear();
    return PyErr_Restore(type, value, tb);
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  PyErr_SetObject(PyExc_TypeError, line);
  Py_DECREF(line);
}

PyObject* guard_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  PyObject* fn = reinterpret_cast<Guard*>(self)->fn;
  PyObject* r = PyObject_Vectorcall(fn, args, nargsf, kwnames);
  if (!r && PyErr_ExceptionMatches(PyExc_TypeError)) reword(fn, args, nargsf, kwnames);
  return r;
}

// As a class attribute it is a method: x.sum(dim=1) calls the guard with x first.
PyObject* guard_get(PyObject* self, PyObject* obj, PyObject*) {
  if (!obj) return new_ref(self);
  return PyMethod_New(self, obj);
}

// __doc__, __name__, __signature__ ... are the wrapped function's, so help() and editors see it.
PyObject* guard_getattro(PyObject* self, PyObject* name) {
  PyObject* fn = reinterpret_cast<Guard*>(self)->fn;
  if (PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0) return new_ref(fn);
  if (PyUnicode_CompareWithASCIIString(name, "__class__") == 0) return PyObject_GenericGetAttr(self, name);
  return PyObject_GetAttr(fn, name);
}

// Also as data descriptors on the type, for code that bypasses getattr (pydoc reads __doc__ so).
template <const char* name> PyObject* forwarded(PyObject* self, void*) {
  return PyObject_GetAttrString(reinterpret_cast<Guard*>(self)->fn, name);
}
constexpr char kDoc[] = "__doc__", kName[] = "__name__", kQualname[] = "__qualname__",
               kModule[] = "__module__";
PyGetSetDef guard_getset[] = {{kDoc, forwarded<kDoc>, nullptr, nullptr, nullptr},
                              {kName, forwarded<kName>, nullptr, nullptr, nullptr},
                              {kQualname, forwarded<kQualname>, nullptr, nullptr, nullptr},
                              {kModule, forwarded<kModule>, nullptr, nullptr, nullptr},
                              {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyObject* guard_repr(PyObject* self) { return PyObject_Repr(reinterpret_cast<Guard*>(self)->fn); }

int guard_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(reinterpret_cast<Guard*>(self)->fn);
  return 0;
}

void guard_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  Py_CLEAR(reinterpret_cast<Guard*>(self)->fn);
  Py_TYPE(self)->tp_free(self);
}

PyTypeObject guard_type = [] {
  PyTypeObject t{};  // every slot zero, the head set apart: {PyVarObject_HEAD_INIT(...)} trips -Wextra
  t.ob_base = PyVarObject{PyObject_HEAD_INIT(nullptr) 0};
  t.tp_name = "chainrule._core.builtin_function";
  t.tp_basicsize = sizeof(Guard);
  t.tp_flags =
      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
  t.tp_vectorcall_offset = offsetof(Guard, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_descr_get = guard_get;
  t.tp_getattro = guard_getattro;
  t.tp_repr = guard_repr;
  t.tp_getset = guard_getset;
  t.tp_traverse = guard_traverse;
  t.tp_dealloc = guard_dealloc;
  return t;
}();

}  // namespace

void bind_errors(py::module_& m) {
  if (PyType_Ready(&guard_type) < 0) throw py::error_already_set();
  m.def(
      "_guard",
      [](py::object fn) {
        auto* g = PyObject_GC_New(Guard, &guard_type);
        if (!g) throw py::error_already_set();
        g->fn = fn.release().ptr();
        g->vectorcall = guard_call;
        PyObject_GC_Track(g);
        return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(g));
      },
      "Wraps a bound function so a call matching none of its signatures raises a one-line TypeError.");
  m.def("_set_explain", [](py::object f) { explain = f.release().ptr(); });
}

}  // namespace chainrule::bind
