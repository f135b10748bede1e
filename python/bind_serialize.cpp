// Bindings for checkpoints (see python/bind_util.h): the safetensors reader and atomic writer of
// io/safetensors.h. python/chainrule/serialization.py turns nested Python objects into their
// (name, tensor) pairs and structure JSON, and back.
#include <cerrno>
#include <system_error>

#include "io/checkpoint.h"
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {
// An I/O error as the OSError Python's open() raises (FileNotFoundError, PermissionError, ...).
[[noreturn]] void raise_os_error(const std::system_error& e, const std::string& path) {
  PyErr_SetObject(PyExc_OSError, py::make_tuple(e.code().value(), e.code().message(), path).ptr());
  throw py::error_already_set();
}

// A directory: IsADirectoryError, as open() raises, but saying which call refused it ("load: <path>:
// Is a directory"); its errno stays EISDIR.
[[noreturn]] void raise_is_a_directory(const std::system_error& e) {
  py::object err =
      py::reinterpret_steal<py::object>(PyObject_CallFunction(PyExc_IsADirectoryError, "s", e.what()));
  if (!err) throw py::error_already_set();
  err.attr("errno") = e.code().value();
  PyErr_SetObject(PyExc_IsADirectoryError, err.ptr());
  throw py::error_already_set();
}
}  // namespace

void bind_serialize(py::module_& m) {
  m.attr("_STRUCTURE_KEY") = kStructureKey;  // where a nested state dict's structure is stored
  m.attr("_STRUCTURE_VERSION") = kStructureVersion;
  m.def(
      "_save_safetensors",
      [](const TensorDict& tensors, const py::dict& metadata_dict, const std::string& path) {
        Metadata metadata;  // in the dict's order
        for (auto [k, v] : metadata_dict)
          metadata.emplace_back(arg<std::string>(k, "_save_safetensors", "str keys"),
                                arg<std::string>(v, "_save_safetensors", "str values"));
        try {
          py::gil_scoped_release nogil;
          save_file(tensors, path, metadata);
        } catch (const std::system_error& e) {
          raise_os_error(e, path);
        }
      },
      py::arg("tensors"), py::arg("metadata"), py::arg("path"),
      "Writes (name, tensor) pairs and a str -> str metadata dict to path as safetensors, atomically.");
  m.def(
      "_load_safetensors",
      [](const std::string& path) {
        SafetensorsFile f;
        try {
          py::gil_scoped_release nogil;
          f = load_file(path);
        } catch (const std::system_error& e) {
          if (e.code().value() == EISDIR) raise_is_a_directory(e);
          raise_os_error(e, path);
        }
        py::dict metadata;
        for (const auto& [k, v] : f.metadata) metadata[py::str(k)] = v;
        return py::make_tuple(py::cast(f.tensors), metadata);
      },
      py::arg("path"),
      "Reads a safetensors file, validated: ([(name, tensor), ...] in file order, metadata dict).");
}

}  // namespace chainrule::bind
