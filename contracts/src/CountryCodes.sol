// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title CountryCodes
/// @notice ISO 3166-1 alpha-2 codes as ASCII `bytes2`: two upper-case letters.
library CountryCodes {
    error InvalidCountryCode(bytes2 country);

    function check(bytes2 country) internal pure {
        if (!_isUpper(country[0]) || !_isUpper(country[1])) revert InvalidCountryCode(country);
    }

    function _isUpper(bytes1 c) private pure returns (bool) {
        return c >= 0x41 && c <= 0x5a;
    }
}
