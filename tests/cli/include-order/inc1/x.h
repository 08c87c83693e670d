typedef int FROM_ONE;
