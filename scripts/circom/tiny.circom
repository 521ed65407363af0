pragma circom 2.0.0;
// A few constraints with public inputs and outputs, small and big coefficients: used by
// tests/test_prover_circom.py to compare our phase 2 from a .ptau with `snarkjs groth16 setup`.

template Tiny() {
    signal input a;
    signal input b;
    signal input c;
    signal output y;
    signal output z;
    signal t;
    t <== a * b;
    y <== t * c + 7 * a + 3;
    z <== (a + 21888242871839275222246405745257275088548364400416034343698204186575808495616 * b) * (t + c);
}

component main {public [a, b]} = Tiny();
