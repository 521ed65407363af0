/* File-loading kernels (zkey points and coefficients, .r1cs constraints, the R1CS digest text);
 * see io_ops.c. These take and return Python objects, so they are declared as CPython methods. */
#ifndef ZKXAI_IO_OPS_H
#define ZKXAI_IO_OPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *io_zkey_points(PyObject *self, PyObject *args);
PyObject *io_unpack_points(PyObject *self, PyObject *args);
PyObject *io_zkey_coefs_match(PyObject *self, PyObject *args);
PyObject *io_parse_r1cs(PyObject *self, PyObject *args);
PyObject *io_r1cs_digest_update(PyObject *self, PyObject *args);

#endif
