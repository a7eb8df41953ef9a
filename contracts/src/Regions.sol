// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Regions
/// @dev GB/T 2260 administrative division codes are six digits, PPCCDD (province, prefecture, county).
/// A *pattern* selects regions: `0` is national (everything), a code ending in `0000` a whole province
/// (`310000` = all of Shanghai), a code ending in `00` a whole prefecture (`330500` = Huzhou), any other
/// code exactly one county (`330522` = Changxing).
library Regions {
    uint32 internal constant NATIONAL = 0;

    function isValidCode(uint32 code) internal pure returns (bool) {
        return code >= 110000 && code <= 999999;
    }

    function isValidPattern(uint32 pattern) internal pure returns (bool) {
        return pattern == NATIONAL || isValidCode(pattern);
    }

    function matches(uint32 pattern, uint32 code) internal pure returns (bool) {
        if (pattern == NATIONAL) return true;
        if (pattern % 10000 == 0) return code / 10000 == pattern / 10000;
        if (pattern % 100 == 0) return code / 100 == pattern / 100;
        return code == pattern;
    }

    function matchesAny(uint32[] storage patterns, uint32 code) internal view returns (bool) {
        uint256 n = patterns.length;
        for (uint256 i = 0; i < n; ++i) {
            if (matches(patterns[i], code)) return true;
        }
        return false;
    }
}
