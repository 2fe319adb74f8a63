#include <iostream>
int main() { std::cout << "vesselgan\n"; }
