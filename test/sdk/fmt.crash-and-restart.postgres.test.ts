import { crashMatrix } from './support/fmt-crash-matrix.js';

// SIGKILL of the example's FMT wallet process at each step of try, confirm and cancel (support/fmt-crash-matrix.ts).
await crashMatrix('postgres');
