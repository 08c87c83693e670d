typedef int FROM_TWO;
